export * from './backoff';
export * from './concurrency-limit';
export * from './timeout';
export * from './close-within';
