import { backoffDelay } from '@app/async';

/** When to renew a token and how long to wait after a failed attempt. All times in ms since the epoch. */
export interface RefreshPolicy {
  /** Refresh when less than this remains (default 10 min)… */
  minLeadMs: number;
  /** …or less than this fraction of the lifetime (default 0.2), whichever comes first. */
  leadFraction: number;
  /** Spread refreshes over up to this fraction of the lead before the due time, so a fleet does not refresh in the same second. */
  jitterFraction: number;
  /** Backoff after transient failures: base, cap. */
  retryBaseMs: number;
  retryMaxMs: number;
}

export const DEFAULT_REFRESH_POLICY: RefreshPolicy = {
  minLeadMs: 10 * 60_000,
  leadFraction: 0.2,
  jitterFraction: 0.5,
  retryBaseMs: 5_000,
  retryMaxMs: 5 * 60_000,
};

/**
 * Due time of the next proactive refresh for a token valid from `issuedAt` to `expiresAt`: the lead is
 * the larger of minLead and leadFraction × lifetime, then a random part of the jitter window is taken
 * off so refreshes spread out. Never later than expiry minus the lead, never earlier than `now`.
 */
export function refreshDueAt(issuedAt: number, expiresAt: number, now: number, policy: RefreshPolicy = DEFAULT_REFRESH_POLICY, random = Math.random): number {
  const lifetime = Math.max(0, expiresAt - issuedAt);
  const lead = Math.min(lifetime, Math.max(policy.minLeadMs, policy.leadFraction * lifetime));
  const jitter = random() * policy.jitterFraction * lead;
  return Math.max(now, Math.round(expiresAt - lead - jitter));
}

/**
 * When to try again after `attempts` transient failures in a row: exponential with equal jitter, capped,
 * and — while the token is still valid — early enough to leave one more try before it expires.
 */
export function retryAt(attempts: number, now: number, expiresAt: number | null, policy: RefreshPolicy = DEFAULT_REFRESH_POLICY, random = Math.random): number {
  let delay = Math.max(1_000, backoffDelay(attempts - 1, { baseMs: policy.retryBaseMs, maxMs: policy.retryMaxMs, jitter: 'equal' }, random));
  if (expiresAt !== null && expiresAt > now) delay = Math.min(delay, Math.max(1_000, (expiresAt - now) / 3));
  return now + delay;
}
