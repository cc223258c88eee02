import { DEFAULT_REFRESH_POLICY, refreshDueAt, retryAt } from './refresh-policy';

const MIN = 60_000;
const HOUR = 60 * MIN;

describe('refreshDueAt', () => {
  it('takes the larger lead: 20 % of a 1 h token (12 min) beats 10 min', () => {
    expect(refreshDueAt(0, HOUR, 0, DEFAULT_REFRESH_POLICY, () => 0)).toBe(48 * MIN);
    expect(refreshDueAt(0, HOUR, 0, DEFAULT_REFRESH_POLICY, () => 1)).toBe(42 * MIN);
  });

  it('uses the 10-minute floor for short-lived tokens and never schedules in the past', () => {
    expect(refreshDueAt(0, 30 * MIN, 0, DEFAULT_REFRESH_POLICY, () => 0)).toBe(20 * MIN);
    expect(refreshDueAt(0, 5 * MIN, 0, DEFAULT_REFRESH_POLICY, () => 0)).toBe(0);
    expect(refreshDueAt(0, HOUR, 55 * MIN, DEFAULT_REFRESH_POLICY, () => 0)).toBe(55 * MIN);
  });

  it('spreads a fleet of identical tokens over the jitter window', () => {
    const due = Array.from({ length: 1000 }, () => refreshDueAt(0, HOUR, 0));
    expect(Math.min(...due)).toBeGreaterThanOrEqual(42 * MIN);
    expect(Math.max(...due)).toBeLessThanOrEqual(48 * MIN);
    expect(new Set(due.map((d) => Math.floor(d / 1000))).size).toBeGreaterThan(200);
  });
});

describe('retryAt', () => {
  it('backs off exponentially up to the cap', () => {
    expect(retryAt(1, 0, null, DEFAULT_REFRESH_POLICY, () => 1)).toBe(5_000);
    expect(retryAt(3, 0, null, DEFAULT_REFRESH_POLICY, () => 1)).toBe(20_000);
    expect(retryAt(20, 0, null, DEFAULT_REFRESH_POLICY, () => 1)).toBe(5 * MIN);
  });

  it('leaves room for another try before the token expires', () => {
    expect(retryAt(20, 0, 3 * MIN, DEFAULT_REFRESH_POLICY, () => 1)).toBe(MIN);
  });
});
