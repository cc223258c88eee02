import { MailboxSpec } from '../mailbox-spec';

/** What the supervisor needs from a running mailbox, IMAP or Graph. */
export interface MailboxRunnerLike {
  readonly spec: MailboxSpec;
  start(): void;
  /**
   * Stops listening; `event` says what the mailbox's state becomes (null: no state change — it was
   * deleted, a runner with new settings takes over, or the lease went to another replica). Resolves once
   * the last delivery in flight is written. `replaced`: another runner here follows at once; `handover`:
   * another replica runs the mailbox from now on (make-before-break, or it took the lease over). Either
   * way, state kept at the provider (a Graph subscription) stays for whoever runs the mailbox next.
   */
  stop(event: 'release' | 'disable' | null, options?: RunnerStopOptions): Promise<void>;
  /** Reconnects now and catches up from the stored cursors (POST /resync). */
  restart(): Promise<void>;
}

export interface RunnerStopOptions {
  replaced?: boolean;
  handover?: boolean;
}
