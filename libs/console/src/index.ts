export * from './console.module';
export * from './install-console';
export { consoleMailboxPath } from './console-paths';
export { CONSOLE_CSP, QUEUES_CSP } from './console-csp';
