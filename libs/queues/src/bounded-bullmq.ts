import { Logger } from '@nestjs/common';
import { FlowProducer, Queue, Worker, WorkerOptions } from 'bullmq';
import { Closable, closeWithin, TimeoutError, withTimeout } from '@app/async';

/** A queue or flow producer has nothing to wait for at close but Redis. */
export const QUEUE_CLOSE_MS = 2_000;
/** A worker's default: its jobs in progress (fan-outs, routing) take milliseconds to seconds. */
export const WORKER_CLOSE_MS = 5_000;

/**
 * What any close waits at most while its Redis connection is away: everything it would wait for goes
 * through Redis, so waiting longer only delays the stop (several bounded closes one after another took
 * 15 s of a SIGTERM with Redis away, against a 20 s grace).
 */
export const REDIS_AWAY_CLOSE_MS = 250;

/** A BullMQ object given an ioredis instance: its `status` says whether Redis is up right now. */
interface OnConnection {
  opts: { connection?: unknown };
}

/** Whether the connection a BullMQ object was given is down now (one given by URL or options counts as up). */
export function redisAway(target: OnConnection): boolean {
  const status = (target.opts.connection as { status?: unknown } | undefined)?.status;
  return typeof status === 'string' && status !== 'ready';
}

/** closeWithin for a BullMQ object: at most `ms` while its Redis is up, REDIS_AWAY_CLOSE_MS while it is away. */
export function closeBullWithin(target: Closable & OnConnection, ms: number): Promise<boolean> {
  return closeWithin(target, redisAway(target) ? REDIS_AWAY_CLOSE_MS : ms);
}

/** Worker option: how long its close waits for the jobs in progress before it gives up (default WORKER_CLOSE_MS). */
export interface BoundedCloseOption {
  closeWithinMs?: number;
}

/** For `@Processor(queue, { ...closeWithinMs(3_000), … })`: the worker's close bound (see BoundedWorker). */
export function closeWithinMs(ms: number): BoundedCloseOption {
  return { closeWithinMs: ms };
}

/**
 * `close()` settled within `ms` whatever Redis does; `onTimeout` lets go of what the close left behind.
 * A close that fails counts as closed (nothing more to wait for).
 */
async function settleWithin(close: Promise<unknown>, ms: number, onTimeout: () => void): Promise<void> {
  try {
    await withTimeout(close, ms);
  } catch (error) {
    if (error instanceof TimeoutError) onTimeout();
  }
}

/*
 * The classes @nestjs/bullmq instantiates (BullModule.queueClass / workerClass / flowProducerClass, see
 * queues.module.ts). Nest closes what it created in its own shutdown hooks, with BullMQ's unbounded close():
 * that never settles while Redis is away (it waits for commands sitting in ioredis' offline queue, or for a
 * job in progress that waits on one), and SIGTERM would then end in the grace timer's exit 1 instead of a
 * clean stop. Here each close is bounded, and memoized: ours (a processor stopping early) and Nest's (at
 * shutdown) are one and the same bounded close. A job left active by a close that gave up is retried
 * elsewhere once its lock lapses, which every consumer tolerates (deterministic job ids).
 */

export class BoundedQueue extends Queue {
  private closingWithin?: Promise<void>;

  override close(): Promise<void> {
    // Nothing to let go of on timeout: a queue shares the REDIS connection (RedisModule closes it).
    this.closingWithin ??= settleWithin(super.close(), redisAway(this) ? REDIS_AWAY_CLOSE_MS : QUEUE_CLOSE_MS, () => undefined);
    return this.closingWithin;
  }
}

export class BoundedFlowProducer extends FlowProducer {
  private closingWithin?: Promise<void>;

  override close(): Promise<void> {
    this.closingWithin ??= settleWithin(super.close(), redisAway(this) ? REDIS_AWAY_CLOSE_MS : QUEUE_CLOSE_MS, () => undefined);
    return this.closingWithin;
  }
}

export class BoundedWorker extends Worker {
  private closingWithin?: Promise<void>;

  override close(force = false): Promise<void> {
    const ms = redisAway(this) ? REDIS_AWAY_CLOSE_MS : ((this.opts as WorkerOptions & BoundedCloseOption).closeWithinMs ?? WORKER_CLOSE_MS);
    // BullMQ's close goes on in the background and ends once Redis is back (or with the process).
    this.closingWithin ??= settleWithin(super.close(force), ms, () =>
      new Logger('BullMQ').warn(`${this.name} worker: not closed within ${ms} ms (Redis away?); leaving it`),
    );
    return this.closingWithin;
  }
}
