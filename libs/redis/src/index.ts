export * from './redis.module';
export * from './redis-lock';
export * from './close-redis';
