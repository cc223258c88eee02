import { backoffDelay } from './backoff';

describe('backoffDelay', () => {
  it('equal jitter: between half the ceiling and the ceiling, doubling to the cap', () => {
    const backoff = { baseMs: 1000, maxMs: 8000, jitter: 'equal' as const };
    expect([0, 1, 2, 3, 4].map((attempt) => backoffDelay(attempt, backoff, () => 1))).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect([0, 1, 2, 3, 4].map((attempt) => backoffDelay(attempt, backoff, () => 0))).toEqual([500, 1000, 2000, 4000, 4000]);
  });

  it('a fraction: the ceiling plus up to that share of it, capped', () => {
    const backoff = { baseMs: 1000, maxMs: 60_000, jitter: 0.25 };
    expect([0, 1, 2, 5].map((attempt) => backoffDelay(attempt, backoff, () => 0))).toEqual([1000, 2000, 4000, 32_000]);
    expect(backoffDelay(0, backoff, () => 1)).toBe(1250);
    expect(backoffDelay(5, backoff, () => 1)).toBe(40_000);
    expect(backoffDelay(20, backoff, () => 1)).toBe(60_000);
  });

  it('a negative attempt counts as the first', () => {
    expect(backoffDelay(-1, { baseMs: 5000, maxMs: 300_000, jitter: 'equal' }, () => 1)).toBe(5000);
  });
});
