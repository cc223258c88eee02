import { MailboxSpec } from '../mailbox-spec';

/** What the supervisor needs from a running mailbox, IMAP or Graph. */
export interface MailboxRunnerLike {
  readonly spec: MailboxSpec;
  start(): void;
  /**
   * Stops listening; `event` says what the mailbox's state becomes (null: no state change — it was
   * deleted, or a runner with new settings takes over). `replaced`: another runner follows at once, so
   * state kept at the provider (a Graph subscription) stays.
   */
  stop(event: 'release' | 'disable' | null, options?: { replaced?: boolean }): Promise<void>;
  /** Reconnects now and catches up from the stored cursors (POST /resync). */
  restart(): Promise<void>;
}
