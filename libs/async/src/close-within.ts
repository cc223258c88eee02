import { TimeoutError, withTimeout } from './timeout';

/** What shutdown closes: a BullMQ worker, queue or flow producer, an HTTP agent. */
export interface Closable {
  close(force?: boolean): Promise<unknown>;
}

/**
 * Shutdown's bounded wait for `target` to close: at most `ms`, then `close(true)` (not awaited) and on.
 * BullMQ's close never settles while Redis is away (it waits for commands sitting in ioredis' offline
 * queue), and a process must still stop: a job left active is retried elsewhere once its lock lapses,
 * which every consumer here tolerates (deterministic ids). True when it closed in time; a close that
 * failed counts as closed (there is nothing more to wait for).
 */
export async function closeWithin(target: Closable, ms: number): Promise<boolean> {
  try {
    await withTimeout(target.close(), ms);
    return true;
  } catch (error) {
    if (!(error instanceof TimeoutError)) return true;
    void target.close(true).catch(() => undefined);
    return false;
  }
}
