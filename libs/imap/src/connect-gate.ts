import { ConnectRamp } from './connect-ramp';

/** Which ramp paces an attempt: a mailbox this replica holds (`live`), or a warm standby's hand-over login. */
export type ConnectLane = 'live' | 'standby';

interface Waiter {
  /** Arrival order across all hosts and lanes. */
  readonly seq: number;
  readonly start: () => void;
  readonly drop: () => void;
}

interface HostQueue {
  readonly lane: ConnectLane;
  readonly host: string;
  readonly waiters: Waiter[];
}

/**
 * Where a connection attempt waits for its turn: one of `slots` attempts in flight (all hosts;
 * SYNC_CONNECT_CONCURRENCY) and a token of its host's ramp (SYNC_CONNECT_RATE_PER_HOST, or the hand-over
 * rate for a standby). A free slot goes to the longest-waiting attempt whose host has a token, so an
 * attempt never sits on a slot while its ramp makes it wait. With a slot taken first and the ramp waited
 * for inside it (as before), a host with a lowered rate filled every slot and the other hosts queued
 * behind it: 4 slots, one host at 2/s with 12 attempts queued first kept another host's first login
 * waiting 3.9 s though its own bucket was full. Taking the token first and the slot after would instead
 * let every token holder start together when slots free at once (a server failing fast), a burst past
 * the host's rate. p-limit (the project's limiter) serves strictly first come, first served, which is
 * exactly what must not happen here, hence this scheduler.
 */
export class ConnectGate {
  private inFlight = 0;
  private arrivals = 0;
  /** Waiting attempts, by lane and host, each queue in arrival order. */
  private readonly queues = new Map<string, HostQueue>();
  private wakeTimer?: NodeJS.Timeout;
  private wakeAt = Infinity;
  private closed = false;

  constructor(
    private readonly slots: number,
    private readonly ramps: Record<ConnectLane, ConnectRamp>,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`Connect slots must be a positive integer, got ${slots}`);
  }

  /**
   * Runs `attempt` in its turn and settles with it. Aborting `signal` before the turn came (a newer
   * attempt of the same runner replaces it) drops it: it never runs and the promise resolves.
   */
  run(lane: ConnectLane, host: string, attempt: () => Promise<void>, signal?: AbortSignal): Promise<void> {
    if (this.closed || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const queue = this.queueOf(lane, host);
      const onAbort = (): void => {
        const index = queue.waiters.indexOf(waiter);
        if (index < 0) return;
        queue.waiters.splice(index, 1);
        if (queue.waiters.length === 0) this.queues.delete(keyOf(lane, host));
        resolve();
        this.pump();
      };
      const waiter: Waiter = {
        seq: this.arrivals++,
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          this.inFlight += 1;
          new Promise<void>((settle) => settle(attempt()))
            .then(resolve, reject)
            .finally(() => {
              this.inFlight -= 1;
              this.pump();
            });
        },
        drop: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      queue.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pump();
    });
  }

  /** A lane's new rate applies to its waiters at once. */
  setRate(lane: ConnectLane, ratePerSecond: number): void {
    this.ramps[lane].setRate(ratePerSecond);
    this.pump();
  }

  /** Attempts waiting for their turn (all hosts and lanes). */
  get waiting(): number {
    let total = 0;
    for (const queue of this.queues.values()) total += queue.waiters.length;
    return total;
  }

  /** Attempts waiting for their turn or running (all hosts and lanes). */
  get pending(): number {
    return this.waiting + this.inFlight;
  }

  /** The supervisor stops: waiting attempts are dropped (their runners are being stopped), new ones too. */
  close(): void {
    this.closed = true;
    this.clearWake();
    const queues = [...this.queues.values()];
    this.queues.clear();
    for (const queue of queues) for (const waiter of queue.waiters) waiter.drop();
  }

  /** Starts what may start now; if slots are free but no waiting host has a token, wakes when the first one will. */
  private pump(): void {
    if (this.closed) return;
    while (this.inFlight < this.slots) {
      const next = this.takeNext();
      if (!next) break;
      next.start();
    }
    if (this.inFlight < this.slots && this.queues.size > 0) this.wakeIn(this.msUntilAnyToken());
    else this.clearWake();
  }

  /** The longest-waiting attempt whose host has a token (the token is taken), if any. */
  private takeNext(): Waiter | undefined {
    const byArrival = [...this.queues.values()].sort((a, b) => a.waiters[0].seq - b.waiters[0].seq);
    const queue = byArrival.find(({ lane, host }) => this.ramps[lane].tryTake(host));
    if (!queue) return undefined;
    const waiter = queue.waiters.shift()!;
    if (queue.waiters.length === 0) this.queues.delete(keyOf(queue.lane, queue.host));
    return waiter;
  }

  private msUntilAnyToken(): number {
    let soonest = Infinity;
    for (const { lane, host } of this.queues.values()) soonest = Math.min(soonest, this.ramps[lane].msUntilToken(host));
    return Math.max(1, soonest);
  }

  private wakeIn(ms: number): void {
    if (!Number.isFinite(ms)) return;
    const at = this.now() + ms;
    if (this.wakeTimer && this.wakeAt <= at) return;
    this.clearWake();
    this.wakeAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.wakeAt = Infinity;
      this.pump();
    }, ms);
    this.wakeTimer.unref?.();
  }

  private clearWake(): void {
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.wakeAt = Infinity;
  }

  private queueOf(lane: ConnectLane, host: string): HostQueue {
    const key = keyOf(lane, host);
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { lane, host, waiters: [] };
      this.queues.set(key, queue);
    }
    return queue;
  }
}

function keyOf(lane: ConnectLane, host: string): string {
  return `${lane} ${host}`;
}
