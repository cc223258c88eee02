export * from './console.module';
export * from './install-console';
