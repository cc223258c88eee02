import { ConnectRamp } from './connect-ramp';

describe('ConnectRamp', () => {
  it('lets a burst through, then one token per 1/rate seconds, per host', () => {
    let now = 0;
    const ramp = new ConnectRamp(10, 2, () => now);
    expect([ramp.tryTake('a'), ramp.tryTake('a'), ramp.tryTake('a')]).toEqual([true, true, false]);
    expect(ramp.tryTake('b')).toBe(true); // other hosts have their own bucket
    expect(ramp.msUntilToken('a')).toBe(100);
    now += 60;
    expect(ramp.msUntilToken('a')).toBe(40);
    now += 40;
    expect(ramp.tryTake('a')).toBe(true);
    expect(ramp.tryTake('a')).toBe(false);
  });

  it('never holds more than the burst, however long it idled', () => {
    let now = 0;
    const ramp = new ConnectRamp(10, 2, () => now);
    now += 60_000;
    expect([ramp.tryTake('a'), ramp.tryTake('a'), ramp.tryTake('a')]).toEqual([true, true, false]);
  });

  it('keeps what was earned at the old rate and earns at the new one from then on', () => {
    let now = 0;
    const ramp = new ConnectRamp(1, 1, () => now);
    expect(ramp.tryTake('a')).toBe(true);
    now += 500; // half a token earned at 1/s
    ramp.setRate(10);
    expect(ramp.msUntilToken('a')).toBe(50);
  });
});
