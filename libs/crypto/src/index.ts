export * from './crypto.module';
export * from './dev-key-file';
export * from './key-ring';
export * from './secret-box';
