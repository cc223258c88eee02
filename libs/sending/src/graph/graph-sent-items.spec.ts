import { lookUpAfterSettling } from './graph-sent-items';

describe('lookUpAfterSettling (an interrupted Graph send looked up in Sent Items)', () => {
  const run = (answers: boolean[], handedOverAt: number | null, now = 100_000) => {
    const sleeps: number[] = [];
    let looks = 0;
    const result = lookUpAfterSettling({
      look: async () => answers[looks++] ?? false,
      handedOverAt,
      now: () => now,
      sleep: async (ms) => void sleeps.push(ms),
      settleMs: 30_000,
    });
    return result.then((r) => ({ ...r, sleeps }));
  };

  it('found at once: one look, no wait', async () => {
    expect(await run([true], 99_000)).toEqual({ found: true, looks: 1, sleeps: [] });
  });

  it('a hand-over long enough ago: one look, no wait (Exchange has filed it by then or did not take it)', async () => {
    expect(await run([false, true], 100_000 - 30_000)).toEqual({ found: false, looks: 1, sleeps: [] });
  });

  it('a recent hand-over: waits out the rest of the settle time and looks once more', async () => {
    expect(await run([false, true], 100_000 - 12_000)).toEqual({ found: true, looks: 2, sleeps: [18_000] });
    expect(await run([false, false], 100_000 - 12_000)).toEqual({ found: false, looks: 2, sleeps: [18_000] });
  });

  it('no hand-over time, or one in the future (clock skew): waits at most the settle time', async () => {
    expect(await run([false, false], null)).toEqual({ found: false, looks: 2, sleeps: [30_000] });
    expect(await run([false, false], 100_000 + 60_000)).toEqual({ found: false, looks: 2, sleeps: [30_000] });
  });
});
