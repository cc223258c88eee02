/** How a drain ended: everything handed over, nobody to hand to, out of time, or the database failed us. */
export type DrainOutcome = 'handed_over' | 'alone' | 'timed_out' | 'failed';

export interface DrainSteps {
  /** From now on the others leave this replica out of the assignment and ask for its mailboxes. */
  markDraining(): Promise<void>;
  /** Whether another live (not draining) replica could take the mailboxes. */
  othersCanTake(): Promise<boolean>;
  /** One lease round as a draining replica (stops the runners asked for, grants); resolves with how many leases are still held. */
  round(): Promise<number>;
}

export interface DrainOptions {
  timeoutMs: number;
  /** Pause between rounds: the others ask within their own round interval, and every round here answers all asks so far. */
  roundEveryMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * SIGTERM: hand every mailbox over, make-before-break, within `timeoutMs`. Rounds run until nothing is
 * held any more, or the time is up. A replica with nobody to hand to stops at once (waiting would only
 * leave its mailboxes unheard for the whole timeout); so does one whose database is gone (its leases
 * lapse by themselves). What is left afterwards the caller releases.
 */
export async function drainLeases(steps: DrainSteps, options: DrainOptions): Promise<{ outcome: DrainOutcome; error?: unknown }> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const deadline = now() + options.timeoutMs;
  try {
    await steps.markDraining();
    for (;;) {
      if (!(await steps.othersCanTake())) return { outcome: 'alone' };
      if ((await steps.round()) === 0) return { outcome: 'handed_over' };
      const left = deadline - now();
      if (left <= 0) return { outcome: 'timed_out' };
      await sleep(Math.min(options.roundEveryMs, left));
    }
  } catch (error) {
    return { outcome: 'failed', error };
  }
}
