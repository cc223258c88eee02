/** Exponential backoff: the ceiling doubles from `baseMs` with every attempt, up to `maxMs`. */
export interface Backoff {
  baseMs: number;
  maxMs: number;
  /**
   * How a delay is spread around its ceiling, so a fleet that failed together does not retry together:
   * - `'equal'` ("equal jitter"): between half the ceiling and the ceiling, so retries never collapse to zero;
   * - a fraction f: the ceiling plus up to f of it, still capped at `maxMs`.
   */
  jitter: 'equal' | number;
}

/**
 * The project's one backoff computation: the delay before retry number `attempt` (0 for the first
 * retry). Callers keep their own state (attempts, a stable-connection reset, Retry-After, a floor).
 */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempt));
  if (backoff.jitter === 'equal') return Math.round(ceiling / 2 + random() * (ceiling / 2));
  return Math.min(backoff.maxMs, Math.round(ceiling * (1 + backoff.jitter * random())));
}
