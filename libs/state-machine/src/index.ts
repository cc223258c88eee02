export * from './transition-table';
