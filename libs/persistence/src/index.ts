export * from './data-source.options';
export * from './embedded/embedded-postgres';
export * from './entities';
export * from './migration-runner';
export * from './migrations';
export * from './persistence.module';
export * from './secret-contexts';
export * from './secrets-reencryption';
