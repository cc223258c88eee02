export * from './connect-gate';
export * from './connect-ramp';
export * from './imap-endpoint';
export * from './imap-errors';
export * from './imap-folder.session';
export * from './message-mapper';
