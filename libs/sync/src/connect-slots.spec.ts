import { ConnectSlots } from './connect-slots';

describe('ConnectSlots', () => {
  it('lets at most `limit` attempts run and hands freed slots out in order', async () => {
    const slots = new ConnectSlots(2);
    const a = await slots.acquire();
    const b = await slots.acquire();
    const order: string[] = [];
    const c = slots.acquire().then((release) => (order.push('c'), release));
    const d = slots.acquire().then((release) => (order.push('d'), release));
    await Promise.resolve();
    expect(slots.inFlight).toBe(2);
    expect(slots.waiting).toBe(2);
    a();
    a(); // releasing twice frees one slot only
    const releaseC = await c;
    expect(order).toEqual(['c']);
    expect(slots.inFlight).toBe(2);
    b();
    await d;
    expect(order).toEqual(['c', 'd']);
    releaseC();
    expect(slots.inFlight).toBe(1);
  });

  it('close lets every waiter through', async () => {
    const slots = new ConnectSlots(1);
    await slots.acquire();
    const waiting = slots.acquire();
    slots.close();
    await expect(waiting).resolves.toEqual(expect.any(Function));
  });
});
