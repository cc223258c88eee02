/** The statuses whose `Retry-After` says when the endpoint wants the next attempt (RFC 9110 §10.2.3). */
export const RETRY_AFTER_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/**
 * How long a `Retry-After` value asks to wait, in ms from `nowMs` (wall clock: an HTTP date is the
 * endpoint's wall clock): delay-seconds (`120`) or an HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`); a date
 * in the past is 0. Null when absent or unreadable (the attempt then backs off as any other failure).
 */
export function retryAfterMs(value: string | string[] | undefined, nowMs: number): number | null {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return null;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Only the date forms HTTP allows (they all name a weekday or month in letters): Date.parse alone would also take "2026" or "1.5".
  if (!/[A-Za-z]{3}/.test(text)) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/**
 * A failed attempt whose endpoint said when to come back: the delivery's backoff waits at least
 * `delayMs` (already bounded by what is left of the delivery's 24 h window).
 */
export class RetryAfterError extends Error {
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
    this.name = 'RetryAfterError';
  }
}

/** The wait before the next attempt: the backoff's, or the endpoint's Retry-After when that is longer. */
export function nextAttemptDelay(backoffMs: number, error: Error | undefined): number {
  return error instanceof RetryAfterError ? Math.max(backoffMs, error.delayMs) : backoffMs;
}
