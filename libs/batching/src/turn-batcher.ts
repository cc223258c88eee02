import DataLoader from 'dataloader';

export interface TurnBatcherOptions<I, O> {
  /** Items with the same key never share a batch (a statement must not touch one row twice). */
  key(item: I): string;
  /** Runs one batch; answers one result per item, in order (an Error fails only that item). */
  run(items: I[]): Promise<(O | Error)[]>;
  /** Largest batch (bounds one statement's size). Default 500. */
  maxBatchSize?: number;
}

/**
 * Calls made in the same event-loop turn share one round trip. When 3,000 sessions connect at once, the
 * socket callbacks of one poll phase each ask for a status write, a cursor or an event publish; sent one
 * by one they cost a database or Redis round trip each. DataLoader collects them and the batch runs in the
 * check phase (setImmediate), after every callback of that phase had its say — a quiet listener still
 * sends each call at once. Measured: a burst or a shutdown (thousands of calls in one turn) gains most; a
 * paced start-up finishes connections across many turns, so its batches stay small.
 *
 * Items are answered in call order. Same-key items of one batch go out in successive rounds, in order.
 */
export function turnBatcher<I, O>(options: TurnBatcherOptions<I, O>): (item: I) => Promise<O> {
  const loader = new DataLoader<I, O, I>(
    async (items) => {
      const results: (O | Error)[] = new Array(items.length);
      for (const round of roundsOfDistinctKeys(items, options.key)) {
        try {
          const answers = await options.run(round.map((i) => items[i]));
          if (answers.length !== round.length) throw new Error(`A batch of ${round.length} answered ${answers.length} results`);
          round.forEach((index, n) => (results[index] = answers[n]));
        } catch (error) {
          const failure = error instanceof Error ? error : new Error(String(error));
          for (const index of round) results[index] = failure;
        }
      }
      return results;
    },
    { cache: false, batchScheduleFn: (callback) => setImmediate(callback), maxBatchSize: options.maxBatchSize ?? 500 },
  );
  return (item) => loader.load(item);
}

/** Splits item indexes into rounds in which each key appears at most once, keeping each key's order. */
export function roundsOfDistinctKeys<I>(items: readonly I[], key: (item: I) => string): number[][] {
  const rounds: number[][] = [];
  const seen = new Map<string, number>();
  items.forEach((item, index) => {
    const k = key(item);
    const round = seen.get(k) ?? 0;
    seen.set(k, round + 1);
    (rounds[round] ??= []).push(index);
  });
  return rounds;
}

/**
 * For a batched read (`WHERE id = ANY($1)`): one answer per requested id, in request order, made from
 * that id's row or from `undefined` when the statement returned none.
 */
export function answersByKey<R, O>(ids: readonly string[], rows: readonly R[], rowId: (row: R) => string, answer: (row: R | undefined) => O): O[] {
  const byId = new Map(rows.map((row) => [rowId(row), row]));
  return ids.map((id) => answer(byId.get(id)));
}

/**
 * For a batched write whose statement returns the ids of the rows it changed (`RETURNING id`): true for
 * each item whose row was written, false for one a condition held back (fenced out, version moved on).
 */
export function answeredBy<I>(items: readonly I[], id: (item: I) => string, returnedIds: Iterable<string>): boolean[] {
  const written = new Set(returnedIds);
  return items.map((item) => written.has(id(item)));
}
