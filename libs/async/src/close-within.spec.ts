import { closeWithin } from './close-within';

describe('closeWithin', () => {
  it('waits for a close that settles in time', async () => {
    const calls: Array<boolean | undefined> = [];
    const target = { close: (force?: boolean) => (calls.push(force), Promise.resolve()) };
    await expect(closeWithin(target, 1_000)).resolves.toBe(true);
    expect(calls).toEqual([undefined]);
  });

  it('gives up on a close that never settles (BullMQ while Redis is away) and forces it', async () => {
    const calls: Array<boolean | undefined> = [];
    const target = { close: (force?: boolean) => (calls.push(force), force ? Promise.resolve() : new Promise<void>(() => undefined)) };
    await expect(closeWithin(target, 20)).resolves.toBe(false);
    expect(calls).toEqual([undefined, true]);
  });

  it('a close that fails counts as closed', async () => {
    await expect(closeWithin({ close: () => Promise.reject(new Error('connection is closed')) }, 1_000)).resolves.toBe(true);
  });
});
