import { concurrencyLimit } from './concurrency-limit';

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('concurrencyLimit', () => {
  it('holds the limit and hands slots over first come, first served', async () => {
    const limit = concurrencyLimit(2);
    const order: string[] = [];
    const gates = new Map<string, () => void>();
    const task = (name: string) =>
      limit(async () => {
        order.push(`start ${name}`);
        await new Promise<void>((resolve) => gates.set(name, resolve));
        order.push(`end ${name}`);
      });
    const all = ['a', 'b', 'c', 'd'].map(task);
    await turn();
    expect([limit.activeCount, limit.pendingCount]).toEqual([2, 2]);
    gates.get('b')?.();
    await turn();
    gates.get('a')?.();
    await turn();
    expect(order).toEqual(['start a', 'start b', 'end b', 'start c', 'end a', 'start d']);
    gates.get('c')?.();
    gates.get('d')?.();
    await Promise.all(all);
    expect([limit.activeCount, limit.pendingCount]).toEqual([0, 0]);
  });

  it('never has more than the limit running, whenever a newcomer asks around the moment a slot frees', async () => {
    // The case the old ConnectSlots got wrong (3 attempts in flight under a limit of 2): the waiter was
    // woken, and a caller asking before it resumed took the freed slot as well.
    for (let offset = 0; offset <= 6; offset += 1) {
      const limit = concurrencyLimit(2);
      let running = 0;
      let most = 0;
      const gates: (() => void)[] = [];
      const attempt = () =>
        limit(async () => {
          running += 1;
          most = Math.max(most, running);
          await new Promise<void>((resolve) => gates.push(resolve));
          running -= 1;
        });
      void attempt();
      void attempt();
      void attempt();
      await turn();
      // An attempt ends, and `offset` microtasks later another mailbox asks for a slot.
      gates[0]();
      for (let i = 0; i < offset; i += 1) await Promise.resolve();
      void attempt();
      await turn();
      expect({ offset, most, running: limit.activeCount, waiting: limit.pendingCount }).toEqual({ offset, most: 2, running: 2, waiting: 1 });
    }
  });

  it('a failed task frees its slot; a limit below 1 is refused', async () => {
    const limit = concurrencyLimit(1);
    await expect(limit(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limit(async () => 'next')).resolves.toBe('next');
    expect(() => concurrencyLimit(0)).toThrow(RangeError);
  });
});
