export * from './console.module';
export * from './install-console';
export { consoleMailboxPath } from './console-paths';
export { QUEUES_CSP } from './queues/install-queue-board';
