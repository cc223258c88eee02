export * from './connection-state';
export * from './mailbox-state-changed.event';
export * from './mailbox-state.module';
export * from './mailbox-status.repository';
export * from './mailbox-status.writer';
export * from './status-change';
export * from './status-snapshot';
