export * from './graceful-shutdown';
export * from './heap-compaction';
export * from './heap-growth-once-settled';
