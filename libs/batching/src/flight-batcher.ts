export interface FlightBatcherOptions<I, O> {
  /** Runs one batch; answers one result per item, in order (an Error fails only that item). */
  run(items: I[]): Promise<(O | Error)[]>;
  /** Batches running at once (default 1). */
  maxInFlight?: number;
  /** Largest batch (bounds one statement's size). Default 1,000. */
  maxBatchSize?: number;
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
  let queued: { item: I; resolve: (value: O) => void; reject: (error: Error) => void }[] = [];
  let inFlight = 0;
  let scheduled = false;

  const start = () => {
    scheduled = false;
    while (inFlight < maxInFlight && queued.length > 0) {
      const batch = queued.length <= maxBatchSize ? queued : queued.slice(0, maxBatchSize);
      queued = queued.length <= maxBatchSize ? [] : queued.slice(maxBatchSize);
      inFlight += 1;
      void runBatch(batch);
    }
  };
  const schedule = () => {
    if (scheduled || inFlight >= maxInFlight || queued.length === 0) return;
    scheduled = true;
    setImmediate(start);
  };
  const runBatch = async (batch: typeof queued) => {
    try {
      const answers = await options.run(batch.map((call) => call.item));
      if (answers.length !== batch.length) throw new Error(`A batch of ${batch.length} answered ${answers.length} results`);
      batch.forEach((call, n) => {
        const answer = answers[n];
        if (answer instanceof Error) call.reject(answer);
        else call.resolve(answer);
      });
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const call of batch) call.reject(failure);
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
