/** Internal knobs of the webhook receiver (not environment variables: the defaults are what Graph needs). */
export interface GraphIntakeOptions {
  /** How long a known subscription is served from memory (± 10 % jitter, so entries do not expire together). */
  cacheTtlMs: number;
  /**
   * How long "no such subscription" is remembered. 0 by default: the listener inserts its row right after
   * Graph confirms the subscription, and a remembered miss would drop the first notifications that follow.
   * Concurrent lookups of one id still share a single query. Capped at 1 s.
   */
  negativeCacheTtlMs: number;
  /** Bound on cached subscriptions; the oldest entries go first. */
  cacheMaxEntries: number;
  /** Graph drops endpoints slower than ~3 s: answer 503 (Graph retries) before that if Redis hangs. */
  enqueueTimeoutMs: number;
  /** Same budget for the Postgres lookup of subscriptions not in the cache. */
  lookupTimeoutMs: number;
}

export const GRAPH_INTAKE_OPTIONS = Symbol('GRAPH_INTAKE_OPTIONS');

export const DEFAULT_GRAPH_INTAKE_OPTIONS: GraphIntakeOptions = {
  cacheTtlMs: 60_000,
  negativeCacheTtlMs: 0,
  cacheMaxEntries: 100_000,
  enqueueTimeoutMs: 2_000,
  lookupTimeoutMs: 2_000,
};

export function resolveGraphIntakeOptions(overrides: Partial<GraphIntakeOptions> = {}): GraphIntakeOptions {
  const options = { ...DEFAULT_GRAPH_INTAKE_OPTIONS, ...overrides };
  return { ...options, negativeCacheTtlMs: Math.min(Math.max(options.negativeCacheTtlMs, 0), 1_000) };
}
