import { backoffDelay } from '@app/async';

/**
 * Delay before the next connection attempt: exponential with equal jitter, capped, and reset once a
 * connection has stayed up for `stableMs` (a flapping server does not reset it).
 */
export interface ReconnectPolicyOptions {
  baseMs: number;
  maxMs: number;
  stableMs: number;
}

export const DEFAULT_RECONNECT: ReconnectPolicyOptions = { baseMs: 1_000, maxMs: 5 * 60_000, stableMs: 60_000 };

/** Authentication failures back off much more: each attempt is a failed login on someone's account. */
export const AUTH_FAILURE_RECONNECT: ReconnectPolicyOptions = { baseMs: 60_000, maxMs: 60 * 60_000, stableMs: 60_000 };

export class ReconnectPolicy {
  private failures = 0;
  private connectedAt: number | null = null;

  constructor(
    private readonly options: ReconnectPolicyOptions = DEFAULT_RECONNECT,
    private readonly random: () => number = Math.random,
  ) {}

  connected(now: number): void {
    this.connectedAt = now;
  }

  /** Call on every failure or drop; returns how long to wait before the next attempt. */
  nextDelay(now: number): number {
    if (this.connectedAt !== null && now - this.connectedAt >= this.options.stableMs) this.failures = 0;
    this.connectedAt = null;
    this.failures += 1;
    // "Equal jitter": at least half the ceiling, so retries never collapse to zero.
    return backoffDelay(this.failures - 1, { baseMs: this.options.baseMs, maxMs: this.options.maxMs, jitter: 'equal' }, this.random);
  }

  reset(): void {
    this.failures = 0;
  }
}
