export * from './bounded-bullmq';
export * from './queues.module';
