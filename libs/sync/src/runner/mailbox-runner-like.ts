import { MailboxSpec } from '../mailbox-spec';

/** What the supervisor needs from a running mailbox, IMAP or Graph. */
export interface MailboxRunnerLike {
  readonly spec: MailboxSpec;
  start(): void;
  /**
   * Stops listening; `event` says why, and so what the mailbox's state becomes (null: no state change —
   * it was deleted, a runner with new settings takes over, or the lease went to another replica). Resolves
   * once the last delivery in flight is written. `replaced`: another runner here follows at once;
   * `handover`: another replica runs the mailbox from now on (make-before-break, or it took the lease
   * over). Either way, state kept at the provider (a Graph subscription) stays for whoever runs the mailbox next.
   */
  stop(event: RunnerStopEvent, options?: RunnerStopOptions): Promise<void>;
  /** Reconnects now and catches up from the stored cursors (POST /resync). */
  restart(): Promise<void>;
}

/**
 * Why a runner stops, when its state moves:
 * - `release`: this replica lets the mailbox go (shutdown, drain's end): state `pending`, kept at the provider;
 * - `unwanted`: the mailbox is no longer to be run (disabled, or its provider stopped loading mail): what
 *   it keeps at the provider (a Graph subscription) goes, and the state written is `release` too, never
 *   `disable`. Whoever disabled it wrote `disabled` with `enabled = false` (the API's transaction, the
 *   runner's auth give-up); a stopping runner's `disable`, re-read after that write, would also turn a
 *   re-enable made meanwhile (`pending`) back into `disabled` and leave the mailbox stuck there.
 */
export type RunnerStopEvent = 'release' | 'unwanted' | null;

export interface RunnerStopOptions {
  replaced?: boolean;
  handover?: boolean;
}
