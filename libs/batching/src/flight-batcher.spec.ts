import { flightBatcher } from './flight-batcher';

/** A batch runner whose batches end when the test says so. */
function gatedRunner() {
  const batches: number[][] = [];
  const gates: (() => void)[] = [];
  const run = (items: number[]) => {
    batches.push(items);
    return new Promise<number[]>((resolve) => gates.push(() => resolve(items.map((i) => i * 10))));
  };
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
  return { batches, gates, run, turn };
}

describe('flightBatcher', () => {
  it('sends the calls of one turn as one batch and answers each in order', async () => {
    const batches: number[][] = [];
    const double = flightBatcher<number, number>({ run: async (items) => (batches.push(items), items.map((i) => i * 2)) });
    expect(await Promise.all([1, 2, 3].map(double))).toEqual([2, 4, 6]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('collects the calls of many turns made while a batch runs into the next one', async () => {
    const { batches, gates, run, turn } = gatedRunner();
    const call = flightBatcher<number, number>({ run });
    const first = call(1);
    await turn();
    expect(batches).toEqual([[1]]);
    // Three calls from three turns while the first batch runs: one batch after it, not three.
    const later: Promise<number>[] = [];
    for (const n of [2, 3, 4]) {
      later.push(call(n));
      await turn();
    }
    expect(batches).toEqual([[1]]);
    gates[0]();
    expect(await first).toBe(10);
    await turn();
    expect(batches).toEqual([[1], [2, 3, 4]]);
    gates[1]();
    expect(await Promise.all(later)).toEqual([20, 30, 40]);
  });

  it('never answers a call from a batch that started before it was made', async () => {
    const { batches, gates, run, turn } = gatedRunner();
    const read = flightBatcher<number, number>({ run });
    void read(1);
    await turn();
    const late = read(2);
    gates[0]();
    await turn();
    await turn();
    // The running batch did not take the late call: it got a batch of its own, started after it.
    expect(batches).toEqual([[1], [2]]);
    gates[1]();
    expect(await late).toBe(20);
  });

  it('runs up to maxInFlight batches at once and splits at maxBatchSize', async () => {
    const { batches, gates, run, turn } = gatedRunner();
    const call = flightBatcher<number, number>({ run, maxInFlight: 2, maxBatchSize: 2 });
    const answers = Promise.all([1, 2, 3, 4, 5].map(call));
    await turn();
    expect(batches).toEqual([[1, 2], [3, 4]]);
    gates[0]();
    await turn();
    await turn();
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
    gates[1]();
    gates[2]();
    expect(await answers).toEqual([10, 20, 30, 40, 50]);
  });

  it('fails every call of a failed batch, and an Error answer only its call', async () => {
    let fail = true;
    const call = flightBatcher<string, string>({
      run: async (items) => {
        if (fail) throw new Error('statement failed');
        return items.map((item) => (item === 'bad' ? new Error('bad item') : item.toUpperCase()));
      },
    });
    await expect(Promise.all([call('a'), call('b')])).rejects.toThrow('statement failed');
    fail = false;
    const [good, bad] = await Promise.allSettled([call('a'), call('bad')]);
    expect(good).toEqual({ status: 'fulfilled', value: 'A' });
    expect(bad).toMatchObject({ status: 'rejected', reason: new Error('bad item') });
  });

  it('runs same-key items of one batch in successive rounds, in call order', async () => {
    const rounds: string[][] = [];
    const write = flightBatcher<string, string>({ key: (item) => item.split(':')[0], run: async (items) => (rounds.push(items), items) });
    const answers = await Promise.all(['a:1', 'b:1', 'a:2', 'c:1', 'a:3', 'b:2'].map(write));
    expect(answers).toEqual(['a:1', 'b:1', 'a:2', 'c:1', 'a:3', 'b:2']);
    expect(rounds).toEqual([['a:1', 'b:1', 'c:1'], ['a:2', 'b:2'], ['a:3']]);
  });

  it('fails only the round that failed', async () => {
    const write = flightBatcher<string, string>({
      key: (item) => item.split(':')[0],
      run: async (items) => {
        if (items.includes('a:2')) throw new Error('second round failed');
        return items;
      },
    });
    const outcomes = await Promise.allSettled(['a:1', 'b:1', 'a:2'].map(write));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
  });

  it('with minIntervalMs, starts a batch no sooner than that after the previous one, with every call made meanwhile', async () => {
    const batches: { items: number[]; at: number }[] = [];
    const started = performance.now();
    const call = flightBatcher<number, number>({ minIntervalMs: 100, run: async (items) => (batches.push({ items, at: performance.now() - started }), items) });
    const first = call(1);
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    await first;
    // The first batch is long done: these wait for the interval to pass, then go as one.
    const later = [2, 3, 4].map(async (n, i) => (await sleep(i * 10), call(n)));
    expect(await Promise.all(later)).toEqual([2, 3, 4]);
    expect(batches.map((b) => b.items)).toEqual([[1], [2, 3, 4]]);
    expect(batches[1].at - batches[0].at).toBeGreaterThanOrEqual(99);
    // After a quiet spell longer than the interval, a call goes at once.
    await sleep(120);
    const quietAt = performance.now() - started;
    await call(5);
    expect(batches[2].items).toEqual([5]);
    expect(batches[2].at - quietAt).toBeLessThan(50);
  });
});
