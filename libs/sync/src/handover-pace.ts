/**
 * How fast this replica's warm standbys log in (the rate of its hand-over ramp). A hand-over is not
 * urgent — the old owner listens until the new session does — and a login burst at the mail server's
 * full rate holds up its pushes to every hibernated session (bench:failover measures it). So standbys
 * log in at the configured hand-over rate, unless a peer drains and the logins still ahead would then
 * not fit in `budgetMs` from when this replica saw that drain begin: a draining peer releases what is not
 * taken within CLUSTER_DRAIN_TIMEOUT_MS, and a released mailbox goes without a session until it is taken
 * cold. Then the pace is what fits. A join has no deadline: it keeps the configured rate.
 */
export class HandoverPace {
  /** When this replica first saw the current drain with logins ahead. */
  private since: number | null = null;

  constructor(
    /** IMAP_HANDOVER_CONNECT_RATE_PER_HOST. */
    private readonly baseRatePerSecond: number,
    /** A share of CLUSTER_DRAIN_TIMEOUT_MS: the grants after each login need the rest. */
    private readonly budgetMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The rate for `loginsAhead` standby logins not yet made (warming, lost, or not started), with or without a peer draining. */
  rateFor(loginsAhead: number, peerDraining: boolean): number {
    if (loginsAhead === 0 || !peerDraining) {
      this.since = null;
      return this.baseRatePerSecond;
    }
    this.since ??= this.now();
    const leftSeconds = Math.max(1, (this.budgetMs - (this.now() - this.since)) / 1000);
    return Math.max(this.baseRatePerSecond, loginsAhead / leftSeconds);
  }
}
