import { Clock } from '@app/clock';

/** A clock tests move by hand, for token lifetimes without waiting. */
export class ManualClock implements Clock {
  constructor(private current = Date.now()) {}

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }
}
