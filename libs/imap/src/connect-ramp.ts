/**
 * A token bucket per IMAP host: at most `ratePerSecond` new connections (bursts up to `burst`), so
 * starting or reconnecting 10,000 mailboxes does not stampede one server. Waiters are served in order.
 */
export class ConnectRamp {
  private readonly buckets = new Map<string, { tokens: number; updatedAt: number; queue: (() => void)[]; timer?: NodeJS.Timeout }>();

  constructor(
    private ratePerSecond: number,
    private readonly burst: number = ratePerSecond,
    private readonly now: () => number = Date.now,
  ) {}

  acquire(host: string): Promise<void> {
    const bucket = this.bucket(host);
    this.refill(bucket);
    if (bucket.queue.length === 0 && bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      bucket.queue.push(resolve);
      this.drainLater(host);
    });
  }

  /** From now on `ratePerSecond` (what was earned at the old rate is kept, the burst stays): waiters are served at the new pace at once. */
  setRate(ratePerSecond: number): void {
    if (ratePerSecond === this.ratePerSecond) return;
    for (const bucket of this.buckets.values()) this.refill(bucket);
    this.ratePerSecond = ratePerSecond;
    for (const [host, bucket] of this.buckets) {
      if (!bucket.timer) continue;
      clearTimeout(bucket.timer);
      bucket.timer = undefined;
      this.drainLater(host);
    }
  }

  /** How many connections wait for their turn (all hosts). */
  get waiting(): number {
    let total = 0;
    for (const bucket of this.buckets.values()) total += bucket.queue.length;
    return total;
  }

  close(): void {
    for (const bucket of this.buckets.values()) {
      clearTimeout(bucket.timer);
      bucket.queue.splice(0).forEach((resolve) => resolve());
    }
  }

  private bucket(host: string) {
    let bucket = this.buckets.get(host);
    if (!bucket) {
      bucket = { tokens: this.burst, updatedAt: this.now(), queue: [] };
      this.buckets.set(host, bucket);
    }
    return bucket;
  }

  private refill(bucket: { tokens: number; updatedAt: number }): void {
    const now = this.now();
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.ratePerSecond);
    bucket.updatedAt = now;
  }

  private drainLater(host: string): void {
    const bucket = this.bucket(host);
    if (bucket.timer) return;
    const wait = Math.max(1, Math.ceil(((1 - Math.min(1, bucket.tokens)) / this.ratePerSecond) * 1000));
    bucket.timer = setTimeout(() => {
      bucket.timer = undefined;
      this.refill(bucket);
      while (bucket.queue.length > 0 && bucket.tokens >= 1) {
        bucket.tokens -= 1;
        bucket.queue.shift()!();
      }
      if (bucket.queue.length > 0) this.drainLater(host);
    }, wait);
    bucket.timer.unref?.();
  }
}
