export * from './app-config';
export * from './config.error';
export * from './config.loader';
export * from './config.module';
export * from './network-list';
