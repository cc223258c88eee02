import { Logger } from '@nestjs/common';

/**
 * A logger for the lines about one mailbox: each carries `mailboxId` (and any other fields given, e.g. the
 * folder) as structured fields, not only in its text, so an operator filters one mailbox's whole story
 * (`jq 'select(.mailboxId == "…")'`). The listener's lines carry `replicaId` too (LoggingModule).
 */
export class MailboxLogger {
  private readonly logger: Logger;

  constructor(
    readonly mailboxId: string,
    context = `Mailbox ${mailboxId}`,
    private readonly fields: Record<string, unknown> = {},
  ) {
    this.logger = new Logger(context);
  }

  log(message: string, fields: Record<string, unknown> = {}): void {
    this.logger.log(this.with(fields), message);
  }

  warn(message: string, fields: Record<string, unknown> = {}): void {
    this.logger.warn(this.with(fields), message);
  }

  error(message: string, fields: Record<string, unknown> = {}): void {
    this.logger.error(this.with(fields), message);
  }

  debug(message: string, fields: Record<string, unknown> = {}): void {
    this.logger.debug(this.with(fields), message);
  }

  private with(fields: Record<string, unknown>): Record<string, unknown> {
    return { mailboxId: this.mailboxId, ...this.fields, ...fields };
  }
}

/** The fields that tie a line to a mailbox, for the loggers that log about many (`logger.warn(aboutMailbox(id), text)`). */
export function aboutMailbox(mailboxId: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { mailboxId, ...fields };
}
