/**
 * Time source, injectable so tests and benchmarks can run token lifetimes, backoffs and leases on an
 * accelerated or hand-moved clock. Its own library: the listener's runners, the token service and the
 * test harnesses all read it, and none of them should have to depend on another to do so.
 */
export interface Clock {
  now(): number;
}

export const CLOCK = Symbol('CLOCK');

export const systemClock: Clock = { now: () => Date.now() };
