/** The lease a mailbox token's refresh runs under: the replica holding the mailbox, and the epoch it holds it under. */
export interface TokenLease {
  mailboxId: string;
  owner: string;
  epoch: number;
}

/**
 * The fence of one refresh of a mailbox's token by the replica holding the mailbox's lease (the scheduler,
 * or a runner refreshing on demand): made by that caller and handed down through TokenRefresher to the
 * token store, which writes whatever the refresh ends in (new tokens, a failure, `invalid`) only while
 * the lease is still held, and marks the fence when it refuses. One fence per refresh, passed explicitly
 * rather than carried in an AsyncLocalStorage: in Node 20 the first AsyncLocalStorage scope turns on V8
 * promise hooks for the rest of the process, which cost a cold start of 1,000 IMAP mailboxes +20–37 % of
 * the listener's CPU.
 */
export class TokenWriteFence {
  private refusedWrite = false;

  constructor(readonly lease: TokenLease) {}

  /**
   * The lease a write about the token of `mailboxId` must still be held under: only the fence's own
   * mailbox's token is fenced; a provider's app-only token (null) or another mailbox's token is not.
   */
  leaseFor(mailboxId: string | null): TokenLease | undefined {
    return mailboxId === this.lease.mailboxId ? this.lease : undefined;
  }

  /** The store refused a write of this refresh because the lease had moved on (its result is dropped). */
  refuse(): void {
    this.refusedWrite = true;
  }

  /** A write of this refresh was refused: its caller counts a fenced write (scheduler) or stops (runner). */
  get refused(): boolean {
    return this.refusedWrite;
  }
}
