import { answeredBy, answersByKey, roundsOfDistinctKeys, turnBatcher } from './turn-batcher';

describe('turnBatcher', () => {
  it('sends the calls of one turn as one batch and answers each in order', async () => {
    const batches: number[][] = [];
    const double = turnBatcher<number, number>({ key: String, run: async (items) => (batches.push(items), items.map((i) => i * 2)) });
    const answers = await Promise.all([1, 2, 3].map(double));
    expect(answers).toEqual([2, 4, 6]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('collects calls from several callbacks of one loop phase (as socket callbacks of one poll phase)', async () => {
    const batches: number[][] = [];
    const echo = turnBatcher<number, number>({ key: String, run: async (items) => (batches.push(items), items) });
    const answers = await new Promise<number[]>((resolve) => {
      const pending: Promise<number>[] = [];
      // Three immediates run in one check phase, each its own callback. (Not timers: each setTimeout
      // reads the clock, so under load two "simultaneous" timers can fall into different loop turns.)
      for (const n of [1, 2, 3]) setImmediate(() => pending.push(echo(n)));
      setImmediate(() => void Promise.all(pending).then(resolve));
    });
    expect(answers).toEqual([1, 2, 3]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('never puts two items with the same key in one statement, and keeps their order', async () => {
    const batches: string[][] = [];
    const write = turnBatcher<{ id: string; v: number }, string>({
      key: (item) => item.id,
      run: async (items) => (batches.push(items.map((i) => `${i.id}${i.v}`)), items.map((i) => `${i.id}${i.v}`)),
    });
    const answers = await Promise.all([{ id: 'a', v: 1 }, { id: 'b', v: 1 }, { id: 'a', v: 2 }, { id: 'a', v: 3 }].map(write));
    expect(answers).toEqual(['a1', 'b1', 'a2', 'a3']);
    expect(batches).toEqual([['a1', 'b1'], ['a2'], ['a3']]);
  });

  it('fails only the items of a failed round, and an Error answer only its item', async () => {
    const run = turnBatcher<string, string>({
      key: (item) => item[0],
      run: async (items) => {
        if (items.includes('x2')) throw new Error('round refused');
        return items.map((i) => (i === 'bad' ? new Error('bad item') : i.toUpperCase()));
      },
    });
    const settled = await Promise.allSettled(['x1', 'bad', 'x2', 'ok'].map(run));
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual(['X1', 'bad item', 'round refused', 'OK']);
  });

  it('splits a batch beyond maxBatchSize', async () => {
    const sizes: number[] = [];
    const echo = turnBatcher<number, number>({ key: String, maxBatchSize: 2, run: async (items) => (sizes.push(items.length), items) });
    await Promise.all([1, 2, 3, 4, 5].map(echo));
    expect(sizes).toEqual([2, 2, 1]);
  });

  it('rejects a run that answers the wrong number of results', async () => {
    const broken = turnBatcher<number, number>({ key: String, run: async () => [1] });
    await expect(Promise.all([1, 2].map(broken))).rejects.toThrow('A batch of 2 answered 1 results');
  });
});

describe('roundsOfDistinctKeys', () => {
  it('puts the n-th occurrence of a key in round n', () => {
    expect(roundsOfDistinctKeys(['a', 'b', 'a', 'c', 'b', 'a'], (k) => k)).toEqual([[0, 1, 3], [2, 4], [5]]);
  });
});

describe('answeredBy', () => {
  it('answers true only for items whose id the statement returned, in item order', () => {
    const items = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
    expect(answeredBy(items, (i) => i.id, ['c', 'a'])).toEqual([true, false, true]);
    expect(answeredBy(items, (i) => i.id, [])).toEqual([false, false, false]);
  });
});

describe('answersByKey', () => {
  it('answers each requested id from its row, in request order, and from undefined when there is none', () => {
    const rows = [{ id: 'c', v: 3 }, { id: 'a', v: 1 }];
    expect(answersByKey(['a', 'b', 'c'], rows, (row) => row.id, (row) => row?.v ?? null)).toEqual([1, null, 3]);
  });
});
