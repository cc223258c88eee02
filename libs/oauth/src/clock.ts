/** Time source, injectable so tests and benchmarks can run token lifetimes on an accelerated clock. */
export interface Clock {
  now(): number;
}

export const CLOCK = Symbol('CLOCK');

export const systemClock: Clock = { now: () => Date.now() };
