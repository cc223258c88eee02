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

/** Moved to @app/queues (sending honours Graph's Retry-After the same way); re-exported for the delivery code. */
export { nextAttemptDelay, RetryAfterError } from '@app/queues';
