import { drainLeases, DrainSteps } from './lease-drain';

/** A drain's control loop on a manual clock: when it stops asking, and why. */
describe('drainLeases', () => {
  function clock() {
    let now = 0;
    return { now: () => now, sleep: async (ms: number) => void (now += ms) };
  }

  function steps(held: number[], others: boolean[] = []): DrainSteps & { calls: string[] } {
    const calls: string[] = [];
    let round = 0;
    let look = 0;
    return {
      calls,
      markDraining: async () => void calls.push('mark'),
      othersCanTake: async () => (calls.push('others'), others[look++] ?? true),
      round: async () => (calls.push('round'), held[Math.min(round++, held.length - 1)]),
    };
  }

  it('marks itself draining first, then runs rounds until nothing is held', async () => {
    const s = steps([5, 2, 0]);
    expect(await drainLeases(s, { timeoutMs: 10_000, roundEveryMs: 100, ...clock() })).toEqual({ outcome: 'handed_over' });
    expect(s.calls).toEqual(['mark', 'others', 'round', 'others', 'round', 'others', 'round']);
  });

  it('stops at once when no other live replica could take the mailboxes (a lone replica does not wait out the timeout)', async () => {
    const s = steps([5], [false]);
    expect(await drainLeases(s, { timeoutMs: 10_000, roundEveryMs: 100, ...clock() })).toEqual({ outcome: 'alone' });
    expect(s.calls).toEqual(['mark', 'others']);
  });

  it('stops when the others die during the drain', async () => {
    const s = steps([5, 4, 3], [true, true, false]);
    expect((await drainLeases(s, { timeoutMs: 10_000, roundEveryMs: 100, ...clock() })).outcome).toBe('alone');
    expect(s.calls.filter((call) => call === 'round')).toHaveLength(2);
  });

  it('gives up after the timeout, never sleeping past it', async () => {
    const c = clock();
    const s = steps([3]);
    expect(await drainLeases(s, { timeoutMs: 250, roundEveryMs: 100, ...c })).toEqual({ outcome: 'timed_out' });
    expect(c.now()).toBe(250);
    expect(s.calls.filter((call) => call === 'round')).toHaveLength(4);
  });

  it('reports a failed step (the database gone) instead of throwing: the caller still releases', async () => {
    const failing: DrainSteps = { markDraining: async () => undefined, othersCanTake: async () => true, round: async () => Promise.reject(new Error('db down')) };
    const result = await drainLeases(failing, { timeoutMs: 1_000, roundEveryMs: 100, ...clock() });
    expect(result.outcome).toBe('failed');
    expect((result.error as Error).message).toBe('db down');
  });
});
