import { setFlagsFromString } from 'node:v8';

/** The connect gate this long without a waiting or running attempt: the listener's first connects are done. */
export const SETTLED_QUIET_MS = 10_000;

/**
 * LISTENER_HEAP_GROWTH_PERCENT: how much the old space may grow between full GCs, set once the listener's
 * first connects are done. Once a replica has idled, V8's memory reducer shrinks its heap and sets the
 * next full GC ~10 % above what lives: a replica of 1,000 sessions that then took 500 of a dead one's ran
 * two or three full GCs over all of them during the takeover, 194–494 ms of main thread each (compacting:
 * LISTENER_HEAP_COMPACTION), on the two cores the mail server's logins need. With 100 % none ran: 3.7–4.3
 * ms of listener CPU per mailbox taken instead of 4.5–6.9 (bench:failover, trace-gc; two runs with the
 * flag given from the start). Set from the start, it slowed the cold start instead: a fresh heap, where V8
 * allows itself up to 4 ×, collected more often (1.29 × Dovecot's floor instead of 1.18 ×, bench:imap-idle).
 * Hence only once the gate has been quiet for a while; V8 reads the flag whenever it sets the next limit.
 * The price: between full GCs, while mail flows, the heap may reach twice what lives.
 */
export class HeapGrowthOnceSettled {
  private applied = false;
  private quietSince: number | null = null;

  constructor(
    private readonly percent: number,
    private readonly setFlags: (flags: string) => void = setFlagsFromString,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether the growth is set. */
  get active(): boolean {
    return this.applied;
  }

  /** Told, after each lease round, how many connection attempts wait or run at the gate. */
  observe(pendingAttempts: number): void {
    if (this.applied || this.percent <= 0) return;
    if (pendingAttempts > 0) {
      this.quietSince = null;
      return;
    }
    this.quietSince ??= this.now();
    if (this.now() - this.quietSince < SETTLED_QUIET_MS) return;
    this.setFlags(`--heap-growing-percent=${this.percent}`);
    this.applied = true;
  }
}
