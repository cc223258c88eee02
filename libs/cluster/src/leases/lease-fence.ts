import { FailureCode } from '@app/failures';

/**
 * The lease a runner writes under: every write it makes about its mailbox carries this owner and epoch
 * (leaseHeldSql), and affects nothing once another replica holds the mailbox or the epoch moved on.
 */
export interface LeaseFence {
  owner: string;
  epoch: number;
}

/**
 * A write about a mailbox refused because `owner` no longer holds its lease under `epoch` (another
 * replica took it over, or it was handed over meanwhile). The runner that made it stops at once.
 */
export class FencedOutError extends Error {
  readonly code = FailureCode.FencedOut;

  /** `write`: what was refused, e.g. "cursor write of folder …". */
  constructor(
    write: string,
    readonly fence: LeaseFence,
  ) {
    super(`${write} refused: ${fence.owner} no longer holds the mailbox's lease under epoch ${fence.epoch}`);
    this.name = 'FencedOutError';
  }
}

export function isFencedOut(error: unknown): error is FencedOutError {
  return error instanceof FencedOutError;
}
