export * from './console.module';
export * from './install-console';
export { QUEUES_CSP } from './queues/install-queue-board';
