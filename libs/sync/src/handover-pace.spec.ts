import { HandoverPace } from './handover-pace';

/** The hand-over ramp's rate on a manual clock: the configured rate, unless a peer drains and the logins ahead would miss the budget. */
describe('HandoverPace', () => {
  function pace(base = 30, budgetMs = 12_500) {
    let now = 0;
    return { pace: new HandoverPace(base, budgetMs, () => now), advance: (ms: number) => void (now += ms) };
  }

  it('keeps the configured rate while the logins ahead fit in the budget at it', () => {
    const { pace: p } = pace();
    expect(p.rateFor(300, true)).toBe(30);
    expect(p.rateFor(0, true)).toBe(30);
  });

  it('speeds up just enough for the logins ahead to fit in what is left of the budget', () => {
    const { pace: p, advance } = pace();
    expect(p.rateFor(1000, true)).toBe(80);
    advance(10_000);
    // 2.5 s left for 200: 80/s.
    expect(p.rateFor(200, true)).toBe(80);
    advance(2_000);
    // 0.5 s left: paced as if one second were left, never an unbounded rate.
    expect(p.rateFor(100, true)).toBe(100);
  });

  it('keeps the configured rate for a join (no peer draining), however many logins are ahead', () => {
    const { pace: p, advance } = pace();
    expect(p.rateFor(1000, false)).toBe(30);
    advance(20_000);
    expect(p.rateFor(1000, false)).toBe(30);
    // A drain seen later gets its whole budget from then.
    expect(p.rateFor(1000, true)).toBe(80);
  });

  it('starts a new budget once a hand-over has no logins ahead', () => {
    const { pace: p, advance } = pace();
    p.rateFor(500, true);
    advance(60_000);
    expect(p.rateFor(0, true)).toBe(30);
    expect(p.rateFor(500, true)).toBe(40);
  });
});
