import { roundsOfDistinctKeys } from './turn-batcher';

export interface FlightBatcherOptions<I, O> {
  /**
   * Items with the same key never share a statement (a write must not touch one row twice): a batch
   * holding several runs them in successive rounds, in call order. Without it every batch is one round.
   */
  key?(item: I): string;
  /** Runs one batch; answers one result per item, in order (an Error fails only that item). */
  run(items: I[]): Promise<(O | Error)[]>;
  /** Batches running at once (default 1). */
  maxInFlight?: number;
  /** Largest batch (bounds one statement's size). Default 1,000. */
  maxBatchSize?: number;
  /**
   * A batch starts no sooner than this after the one before it started (default 0). For calls off the
   * mail path (a connection's credential, cursor and status): they arrive a few dozen a second while
   * thousands of mailboxes connect, each finding the previous statement finished, so without a pause every
   * call is a statement of its own; with one, a statement carries what arrived in the pause. A call made
   * after a quiet spell goes at once.
   */
  minIntervalMs?: number;
}

/**
 * Calls share a batch with every call made while the batches before them were running. A quiet process
 * sends each call in the check phase of the turn it was made in (setImmediate, as turnBatcher); a busy one,
 * whose calls come from many turns (one per socket that answered), would send one small statement per turn
 * with turnBatcher, and here sends one per `maxInFlight` round trip however many turns its calls came from:
 * the batch grows with the load instead of the statement count.
 *
 * Every batch starts after each of its calls was made, so a read through it sees every write that finished
 * before its call (it never shares a read that was already running).
 */
export function flightBatcher<I, O>(options: FlightBatcherOptions<I, O>): (item: I) => Promise<O> {
  const maxInFlight = options.maxInFlight ?? 1;
  const maxBatchSize = options.maxBatchSize ?? 1_000;
  const minIntervalMs = options.minIntervalMs ?? 0;
  let queued: { item: I; resolve: (value: O) => void; reject: (error: Error) => void }[] = [];
  let inFlight = 0;
  let scheduled = false;
  let lastStartedAt = -Infinity;

  /** Milliseconds until the next batch may start (≤ 0: now). */
  const untilNextStart = () => lastStartedAt + minIntervalMs - performance.now();
  const start = () => {
    // A timer may fire up to a millisecond before the time it was set for (Node counts timers on the event
    // loop's cached, whole-millisecond clock): wait out the rest instead of starting early.
    const early = untilNextStart();
    if (early > 0) {
      setTimeout(start, Math.ceil(early));
      return;
    }
    scheduled = false;
    while (inFlight < maxInFlight && queued.length > 0) {
      const batch = queued.length <= maxBatchSize ? queued : queued.slice(0, maxBatchSize);
      queued = queued.length <= maxBatchSize ? [] : queued.slice(maxBatchSize);
      inFlight += 1;
      lastStartedAt = performance.now();
      void runBatch(batch);
      // The next batch waits out the interval (schedule() sets its timer when it settles or a call comes).
      if (minIntervalMs > 0) break;
    }
  };
  const schedule = () => {
    if (scheduled || inFlight >= maxInFlight || queued.length === 0) return;
    scheduled = true;
    const wait = untilNextStart();
    if (wait > 0) setTimeout(start, Math.ceil(wait));
    else setImmediate(start);
  };
  const settle = (round: typeof queued, answers: (O | Error)[] | Error) => {
    if (!(answers instanceof Error) && answers.length !== round.length) answers = new Error(`A batch of ${round.length} answered ${answers.length} results`);
    round.forEach((call, n) => {
      const answer = answers instanceof Error ? answers : answers[n];
      if (answer instanceof Error) call.reject(answer);
      else call.resolve(answer);
    });
  };
  const answersOf = async (round: typeof queued): Promise<(O | Error)[] | Error> => {
    try {
      return await options.run(round.map((call) => call.item));
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  };
  const runBatch = async (batch: typeof queued) => {
    const key = options.key;
    const rounds = key ? roundsOfDistinctKeys(batch, (call) => key(call.item)).map((indexes) => indexes.map((index) => batch[index])) : [batch];
    try {
      for (const round of rounds) settle(round, await answersOf(round));
    } finally {
      inFlight -= 1;
      schedule();
    }
  };

  return (item) =>
    new Promise<O>((resolve, reject) => {
      queued.push({ item, resolve, reject });
      schedule();
    });
}
