export * from './graceful-shutdown';
export * from './heap-compaction';
