export * from './bounded-bullmq';
export * from './queues.module';
export * from './retry-after-floor';
