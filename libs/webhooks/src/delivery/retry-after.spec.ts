import { nextAttemptDelay, RetryAfterError, retryAfterMs } from './retry-after';

describe('retryAfterMs', () => {
  const now = Date.parse('2026-12-05T10:00:00Z');

  it('reads delay-seconds', () => {
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs(['7', '9'], now)).toBe(7_000);
  });

  it('reads an HTTP date as the time left until it, 0 once past', () => {
    expect(retryAfterMs('Sat, 05 Dec 2026 10:02:00 GMT', now)).toBe(120_000);
    expect(retryAfterMs('Sat, 05 Dec 2026 09:59:00 GMT', now)).toBe(0);
  });

  it('answers null for a missing or unreadable value', () => {
    for (const value of [undefined, '', 'soon', '-5', '1.5', '12 s', 'Mon, 99 Foo 2026 GMT']) expect(retryAfterMs(value, now)).toBeNull();
  });
});

describe('nextAttemptDelay', () => {
  it('waits the longer of the backoff and the Retry-After', () => {
    expect(nextAttemptDelay(5_000, new RetryAfterError('HTTP 503', 60_000))).toBe(60_000);
    expect(nextAttemptDelay(5_000, new RetryAfterError('HTTP 429', 1_000))).toBe(5_000);
    expect(nextAttemptDelay(5_000, new Error('HTTP 500'))).toBe(5_000);
    expect(nextAttemptDelay(5_000, undefined)).toBe(5_000);
  });
});
