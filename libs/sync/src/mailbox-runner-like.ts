import { MailboxSpec } from './mailbox-spec';

/** What the supervisor needs from a running mailbox, IMAP or Graph. */
export interface MailboxRunnerLike {
  readonly spec: MailboxSpec;
  start(): void;
  /** Stops listening; `event` says what the mailbox's state becomes (null: it was deleted). */
  stop(event: 'release' | 'disable' | null): Promise<void>;
  /** Reconnects now and catches up from the stored cursors (POST /resync). */
  restart(): Promise<void>;
}
