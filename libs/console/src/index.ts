export * from './console.module';
export * from './install-console';
export { consoleMailboxPath } from './console-paths';
