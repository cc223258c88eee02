import { SignInLimiter } from './sign-in-limiter';

describe('SignInLimiter', () => {
  it('allows 5 failures per address in 15 minutes, then refuses until the oldest ages out', () => {
    const limiter = new SignInLimiter();
    const t0 = 1_000_000;
    for (let i = 0; i < 5; i++) {
      expect(limiter.retryAfterMs('10.0.0.1', t0 + i * 1000)).toBe(0);
      limiter.recordFailure('10.0.0.1', t0 + i * 1000);
    }
    expect(limiter.retryAfterMs('10.0.0.1', t0 + 5000)).toBe(15 * 60_000 - 5000);
    expect(limiter.retryAfterMs('10.0.0.2', t0 + 5000)).toBe(0);
    expect(limiter.retryAfterMs('10.0.0.1', t0 + 15 * 60_000 + 1)).toBe(0);
  });
});
