/**
 * A token bucket per host: at most `ratePerSecond` new connections (bursts up to `burst`), so starting
 * or reconnecting 10,000 mailboxes does not stampede one server. It only counts; who waits for a token,
 * and in which order, is ConnectGate's business (a waiter must not hold a connect slot meanwhile).
 */
export class ConnectRamp {
  private readonly buckets = new Map<string, { tokens: number; updatedAt: number }>();

  constructor(
    private ratePerSecond: number,
    private readonly burst: number = ratePerSecond,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a token of `host` if one is there. */
  tryTake(host: string): boolean {
    const bucket = this.refilled(host);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Milliseconds until `host` has a token (0: now). */
  msUntilToken(host: string): number {
    const bucket = this.refilled(host);
    return bucket.tokens >= 1 ? 0 : Math.ceil(((1 - bucket.tokens) / this.ratePerSecond) * 1000);
  }

  /** From now on `ratePerSecond` (what was earned at the old rate is kept, the burst stays). */
  setRate(ratePerSecond: number): void {
    if (ratePerSecond === this.ratePerSecond) return;
    for (const host of this.buckets.keys()) this.refilled(host);
    this.ratePerSecond = ratePerSecond;
  }

  private refilled(host: string): { tokens: number; updatedAt: number } {
    const now = this.now();
    let bucket = this.buckets.get(host);
    if (!bucket) {
      bucket = { tokens: this.burst, updatedAt: now };
      this.buckets.set(host, bucket);
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.ratePerSecond);
    bucket.updatedAt = now;
    return bucket;
  }
}
