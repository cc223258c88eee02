export * from './dto/mailbox-status.response';
export * from './dto/mailbox.dto';
export * from './login-format';
export * from './mailbox-status.service';
export * from './mailboxes.module';
export * from './mailboxes.service';
export * from './recommended-action';
export * from './mailbox-errors';
