export * from './logging.module';
export * from './redaction';
export * from './log-format';
export * from './mailbox-logger';
