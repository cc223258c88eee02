export * from './api-harness';
export * from './app-process';
export * from './free-port';
export * from './test-config';
export * from './test-database';
export * from './api-suite';
