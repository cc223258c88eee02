/** What the receiver needs to know about a live subscription (a row of graph_subscriptions). */
export interface KnownSubscription {
  mailboxId: string;
  folderId: string;
  /** SHA-256 of the clientState. */
  clientStateHash: Buffer;
}

interface Entry {
  /** null: looked up and not found. */
  subscription: KnownSubscription | null;
  expiresAt: number;
}

export interface SubscriptionCacheOptions {
  ttlMs: number;
  negativeTtlMs: number;
  maxEntries: number;
  now?: () => number;
  random?: () => number;
}

/**
 * Subscription id → subscription, in memory, so the hot path of the receiver does not touch Postgres.
 * Known subscriptions live `ttlMs` (± 10 % so a fleet of entries loaded together does not expire in the
 * same second), misses only `negativeTtlMs`. The Map keeps insertion order, and every entry is re-inserted
 * when written, so the first key is always the oldest: evicting it keeps the size bounded in O(1).
 */
export class SubscriptionCache {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly options: SubscriptionCacheOptions) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /** The cached answer: a subscription, null for a remembered miss, undefined when unknown or expired. */
  get(subscriptionId: string): KnownSubscription | null | undefined {
    const entry = this.entries.get(subscriptionId);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(subscriptionId);
      return undefined;
    }
    return entry.subscription;
  }

  set(subscriptionId: string, subscription: KnownSubscription | null): void {
    const ttl = subscription ? this.options.ttlMs * (0.9 + 0.2 * this.random()) : this.options.negativeTtlMs;
    this.entries.delete(subscriptionId);
    if (ttl <= 0) return;
    this.entries.set(subscriptionId, { subscription, expiresAt: this.now() + ttl });
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
