import pLimit from 'p-limit';

/**
 * `limit(work)` runs `work` once fewer than `max` others run, and resolves or rejects with it;
 * `activeCount` are running, `pendingCount` are waiting.
 */
export type ConcurrencyLimit = pLimit.Limit;

/**
 * The project's one concurrency limiter: p-limit 3 (the last CommonJS major; see the README's
 * dependency notes). Waiters are served first come, first served, and a freed slot goes straight to
 * the longest waiter, so a caller arriving as a slot frees cannot take it and push the count past
 * `max` (two hand-written copies here drifted apart on exactly that).
 */
export function concurrencyLimit(max: number): ConcurrencyLimit {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`A concurrency limit must be a positive integer, got ${max}`);
  return pLimit(max);
}
