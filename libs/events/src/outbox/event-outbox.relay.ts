import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import Redis from 'ioredis';
import { DataSource, QueryRunner } from 'typeorm';
import { Backoff, backoffDelay, withTimeout } from '@app/async';
import { REDIS } from '@app/redis';
import { MailEventsPublisher } from '../mail-events.publisher';
import { EventOutboxRepository } from './event-outbox.repository';
import { errorMessage } from '@app/failures';

/** Events per round: one DELETE and one BullMQ round trip (addBulk) each. */
const BATCH = 500;
/**
 * Every process sweeps this often for events another process wrote and could not publish (it crashed,
 * or Redis was away when it stopped). A writer wakes its own relay right after its commit, so this is
 * only the safety net, not the latency.
 */
const SWEEP_MS = 5_000;
/** After a failed round (Redis refused the commands, Postgres away), try again after this backoff. */
const RETRY: Backoff = { baseMs: 200, maxMs: SWEEP_MS, jitter: 'equal' };
/**
 * Under a steady stream of commits a round starts at most this long after the previous one started, and
 * takes everything committed meanwhile. A connecting fleet commits a state change every ~15-30 ms (one
 * per login Dovecot completes), and a round per commit cost three Postgres statements and a Redis
 * round trip each: a 1,000-mailbox start ran 1,746 rounds. A quiet process still publishes at once
 * (the first commit after a quiet spell starts a round in the next turn); a state change waits at most
 * this long more while others are being published.
 */
const MIN_ROUND_GAP_MS = 100;
/** Shutdown waits this long for the round in flight and a last one; then leaves the rest to the next process. */
const SHUTDOWN_WAIT_MS = 3_000;

/**
 * Publishes `event_outbox` to BullMQ `mail-events`. A round, in one Postgres transaction: take the oldest
 * waiting events (DELETE … FOR UPDATE SKIP LOCKED, so relays of other processes take other events and
 * never wait), add them as jobs under their own ids (addBulk), commit. If the publish fails the
 * transaction rolls back and the events wait for the next round; if the process dies after the publish
 * but before the commit, the events go out again under the same ids and BullMQ drops them (`duplicated`).
 *
 * Runs on every API and listener process. A writer calls `wake()` after its commit (the event is on the
 * queue a few milliseconds later); a sweep every SWEEP_MS and one at start-up pick up what a process left.
 * While Redis is not connected no round starts (it would wait inside an open transaction): the relay
 * waits for the connection's `ready` instead. A publish is never given up by a timeout while it waits
 * in ioredis's offline queue: the command would still be sent on reconnect, after the rollback had put
 * the events back — a second publish of each.
 */
@Injectable()
export class EventOutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EventOutboxRelay.name);
  private running?: Promise<void>;
  private again = false;
  private scheduled = false;
  private stopped = false;
  private failures = 0;
  private waitingForRedis = false;
  private sweepTimer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private inFlight?: QueryRunner;
  private abandoned?: QueryRunner;
  private lastRoundAt = -Infinity;
  /** Ends the wait for the gap at once (shutdown publishes what is left without it). */
  private endGap?: () => void;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: EventOutboxRepository,
    private readonly publisher: MailEventsPublisher,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  onApplicationBootstrap(): void {
    this.sweepTimer = setInterval(() => this.wake(), SWEEP_MS);
    this.sweepTimer.unref();
    this.wake();
  }

  /** Publish soon (next turn of the event loop, so the commits of one turn share a round). */
  wake(): void {
    if (this.stopped || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  /**
   * Runs rounds until the outbox is empty (a call during a round adds another round); resolves then, or
   * when a round failed (a retry is scheduled) or Redis is away (the relay waits for it).
   */
  drain(): Promise<void> {
    this.again = true;
    if (!this.running) this.running = this.loop();
    return this.running;
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweepTimer);
    clearTimeout(this.retryTimer);
    this.endGap?.();
    // Finish the round in flight, then publish what shutdown hooks before ours wrote (the listener
    // releasing its mailboxes). What is left waits for the next process's relay.
    const last = async () => {
      await this.running;
      while (this.redis.status === 'ready' && (await this.round()) === BATCH);
    };
    await withTimeout(last(), SHUTDOWN_WAIT_MS).catch((error: unknown) => {
      this.logger.warn(`Leaving unpublished events in the outbox for the next process: ${errorMessage(error)}`);
      this.abandon();
    });
  }

  private async loop(): Promise<void> {
    // Never settles synchronously, so `running` is set before the finally below clears it.
    await Promise.resolve();
    try {
      let taken = 0;
      while (this.again && !this.stopped) {
        this.again = false;
        // A backlog (the last round was full) goes on at once; new commits wait for the gap.
        if (taken < BATCH) await this.gap();
        if (this.stopped) return;
        if (this.redis.status !== 'ready') return this.waitForRedis();
        try {
          this.lastRoundAt = Date.now();
          taken = await this.round();
          this.failures = 0;
        } catch (error) {
          return this.retryLater(error);
        }
        if (taken === BATCH) this.again = true;
      }
    } finally {
      this.running = undefined;
    }
  }

  /** One transaction: take, publish, commit. Answers how many events went out. */
  private async round(): Promise<number> {
    const runner = this.dataSource.createQueryRunner();
    this.inFlight = runner;
    try {
      await runner.connect();
      await runner.startTransaction();
      const { events, audience } = await this.repository.take(runner, BATCH);
      if (events.length > 0) await this.publisher.publishMany(events, audience);
      if (this.abandoned === runner) throw new Error('abandoned at shutdown');
      await runner.commitTransaction();
      return events.length;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      this.inFlight = undefined;
      if (!runner.isReleased) await runner.release();
    }
  }

  /** Resolves MIN_ROUND_GAP_MS after the last round started (at once when that is past). */
  private gap(): Promise<void> {
    const wait = this.lastRoundAt + MIN_ROUND_GAP_MS - Date.now();
    if (wait <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.endGap?.(), wait);
      this.endGap = () => {
        clearTimeout(timer);
        this.endGap = undefined;
        resolve();
      };
    });
  }

  private waitForRedis(): void {
    if (this.waitingForRedis) return;
    this.waitingForRedis = true;
    this.redis.once('ready', () => {
      this.waitingForRedis = false;
      this.wake();
    });
  }

  private retryLater(error: unknown): void {
    const delay = backoffDelay(this.failures++, RETRY);
    this.logger.warn(`Publishing from the event outbox failed (${errorMessage(error)}); retrying in ${delay} ms`);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.wake(), delay);
    this.retryTimer.unref();
  }

  /** Shutdown gave up on the round in flight: roll it back so its events wait for another relay. */
  private abandon(): void {
    const runner = this.inFlight;
    if (!runner) return;
    this.abandoned = runner;
    void runner
      .rollbackTransaction()
      .catch(() => undefined)
      .finally(() => (runner.isReleased ? undefined : runner.release()));
  }
}

