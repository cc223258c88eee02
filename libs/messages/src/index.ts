export * from './content-response';
export * from './message-errors';
export * from './message-reader.service';
export * from './message.types';
export * from './messages.module';
export * from './mime-parse';
export * from './imap/imap-connection.pool';
export * from './dto/parsed-message.response';
