export * from './prometheus-server';
export * from './rules-for-test';
export * from './static-exporter';
