/** Failed sign-ins allowed per client address within WINDOW_MS; the next one is refused until the oldest ages out. */
export const SIGN_IN_FAILURES_ALLOWED = 5;
export const SIGN_IN_WINDOW_MS = 15 * 60_000;
/** Addresses remembered at most: a flood of addresses cannot grow the map without bound (oldest dropped first). */
const MAX_ADDRESSES = 10_000;

/**
 * Slows down guessing API keys through the sign-in form: per client address, at most 5 failed attempts in
 * 15 minutes. Kept in this API process's memory: behind N replicas an address gets at most 5 × N, still
 * far too few for a key of 24 random bytes. A correct key is never refused while the address is allowed.
 */
export class SignInLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly allowed = SIGN_IN_FAILURES_ALLOWED,
    private readonly windowMs = SIGN_IN_WINDOW_MS,
  ) {}

  /** Milliseconds until this address may try again (0: it may now). */
  retryAfterMs(address: string, now: number): number {
    const recent = this.recent(address, now);
    return recent.length < this.allowed ? 0 : recent[0] + this.windowMs - now;
  }

  recordFailure(address: string, now: number): void {
    const recent = this.recent(address, now);
    recent.push(now);
    this.failures.delete(address); // re-inserted last: the map's order is least recently failed first
    this.failures.set(address, recent);
    if (this.failures.size > MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
  }

  private recent(address: string, now: number): number[] {
    return (this.failures.get(address) ?? []).filter((at) => at > now - this.windowMs);
  }
}
