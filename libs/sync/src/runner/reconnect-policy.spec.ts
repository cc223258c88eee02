import { ReconnectPolicy } from './reconnect-policy';

describe('ReconnectPolicy', () => {
  it('backs off exponentially with jitter, capped, and resets only after a stable connection', () => {
    const policy = new ReconnectPolicy({ baseMs: 1000, maxMs: 8000, stableMs: 60_000 }, () => 1);
    expect([policy.nextDelay(0), policy.nextDelay(0), policy.nextDelay(0), policy.nextDelay(0), policy.nextDelay(0)]).toEqual([1000, 2000, 4000, 8000, 8000]);
    policy.connected(0);
    expect(policy.nextDelay(10_000)).toBe(8000); // flapping: dropped after 10 s, no reset
    policy.connected(10_000);
    expect(policy.nextDelay(80_000)).toBe(1000); // stayed up 70 s: reset
    const jittered = new ReconnectPolicy({ baseMs: 1000, maxMs: 8000, stableMs: 1 }, () => 0);
    expect(jittered.nextDelay(0)).toBe(500);
  });
});
