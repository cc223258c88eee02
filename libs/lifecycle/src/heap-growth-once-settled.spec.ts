import { HeapGrowthOnceSettled, SETTLED_QUIET_MS } from './heap-growth-once-settled';

describe('HeapGrowthOnceSettled', () => {
  let now: number;
  let flags: string[];
  const policy = (percent: number) => new HeapGrowthOnceSettled(percent, (f) => flags.push(f), () => now);

  beforeEach(() => {
    now = 0;
    flags = [];
  });

  it('waits while the first connects run, then sets the growth once the gate has been quiet long enough', () => {
    const growth = policy(100);
    growth.observe(1000);
    now += 60_000;
    growth.observe(3);
    growth.observe(0);
    now += SETTLED_QUIET_MS - 1;
    growth.observe(0);
    expect(flags).toEqual([]);
    now += 1;
    growth.observe(0);
    expect(flags).toEqual(['--heap-growing-percent=100']);
    expect(growth.active).toBe(true);
  });

  it('starts the quiet spell over when attempts come back before it ends', () => {
    const growth = policy(100);
    growth.observe(0);
    now += SETTLED_QUIET_MS - 1;
    growth.observe(2);
    now += 2;
    growth.observe(0);
    expect(growth.active).toBe(false);
    now += SETTLED_QUIET_MS;
    growth.observe(0);
    expect(growth.active).toBe(true);
  });

  it('sets it once, and keeps it through later storms (a takeover is what it is for)', () => {
    const growth = policy(100);
    growth.observe(0);
    now += SETTLED_QUIET_MS;
    growth.observe(0);
    growth.observe(500);
    now += SETTLED_QUIET_MS;
    growth.observe(0);
    now += SETTLED_QUIET_MS;
    growth.observe(0);
    expect(flags).toEqual(['--heap-growing-percent=100']);
  });

  it('leaves V8 its own factor at 0', () => {
    const growth = policy(0);
    growth.observe(0);
    now += 10 * SETTLED_QUIET_MS;
    growth.observe(0);
    expect(flags).toEqual([]);
    expect(growth.active).toBe(false);
  });
});
