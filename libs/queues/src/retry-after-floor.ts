/**
 * A failed job whose server said when to come back (an HTTP `Retry-After`): thrown from a BullMQ
 * processor, it makes the job's next attempt wait at least `delayMs` — the worker's backoffStrategy passes
 * its own delay through nextAttemptDelay. Webhook delivery and sending use it.
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

/** The wait before the next attempt: the backoff's, or the server's Retry-After when that is longer. */
export function nextAttemptDelay(backoffMs: number, error: Error | undefined): number {
  return error instanceof RetryAfterError ? Math.max(backoffMs, error.delayMs) : backoffMs;
}
