import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Job, Worker } from 'bullmq';
import Redis from 'ioredis';
import { backoffDelay } from '@app/async';
import { APP_CONFIG, AppConfig } from '@app/config';
import { closeBullWithin, nextAttemptDelay } from '@app/queues';
import { REDIS } from '@app/redis';
import { OutboxRepository } from '../outbox.repository';
import { SendOutcome, SendProcessor, SendRetryLaterError } from '../send.processor';
import { MAIL_SEND_QUEUE, SendJobData } from './mail-send-queue';
import { SendQueue } from './send-queue';

/** Queued sends untouched this long are queued again (their job may never have been added). */
const SWEEP_AGE_MS = 60_000;
const SWEEP_EVERY_MS = 30_000;
/**
 * Shutdown waits this long for attempts in flight (a hard stop leaves them to the outcome-unknown rule);
 * with none in flight not at all: a Redis that is away is not waited for (the listener must exit within
 * its drain budget).
 */
const CLOSE_BUSY_MS = 10_000;

/**
 * The `mail-send` worker (SEND_WORKER=on; the listener hosts it, like webhook delivery): SEND_CONCURRENCY
 * attempts at once per process, backoff with jitter between attempts of one send (SEND_RETRY_BASE_MS …
 * SEND_RETRY_MAX_MS), and a sweep that queues again sends whose job was never added.
 */
@Injectable()
export class SendWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SendWorker.name);
  private worker?: Worker<SendJobData, SendOutcome>;
  private connection?: Redis;
  private timer?: NodeJS.Timeout;
  private active = 0;

  constructor(
    private readonly processor: SendProcessor,
    private readonly repository: OutboxRepository,
    private readonly queue: SendQueue,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const retry = this.config.sending.retry;
    this.connection = this.redis.duplicate({ maxRetriesPerRequest: null, connectionName: 'mail-listener-send' });
    this.worker = new Worker<SendJobData, SendOutcome>(MAIL_SEND_QUEUE, (job) => this.run(job), {
      connection: this.connection,
      prefix: this.config.queuePrefix,
      concurrency: this.config.sending.concurrency,
      // A stalled job (its worker died) is run again: the processor then finds it in flight and does not resend.
      maxStalledCount: 100,
      // A server's Retry-After (Graph 429/503, on SendRetryLaterError) is a floor under the backoff, as for webhooks.
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, error?: Error) =>
          nextAttemptDelay(backoffDelay(attemptsMade - 1, { baseMs: retry.baseMs, maxMs: retry.maxMs, jitter: 'equal' }), error),
      },
    });
    this.worker.on('error', (error) => this.logger.warn(`${MAIL_SEND_QUEUE} worker: ${error.message}`));
    this.timer = setInterval(() => void this.sweep().catch((error: Error) => this.logger.warn(`Send sweep: ${error.message}`)), SWEEP_EVERY_MS);
    this.timer.unref();
  }

  /** SIGTERM: stop taking sends, let the attempts in flight finish. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.worker && this.active > 0) await closeBullWithin(this.worker, CLOSE_BUSY_MS);
    // Idle: nothing to wait for (and BullMQ's close never settles while Redis is away).
    else void this.worker?.close(true).catch(() => undefined);
    this.connection?.disconnect();
  }

  private async run(job: Job<SendJobData, SendOutcome>): Promise<SendOutcome> {
    this.active += 1;
    try {
      return await this.processor.process(job.data);
    } catch (error) {
      if (error instanceof SendRetryLaterError) this.logger.log(`Send ${job.data.sendId}: ${error.message}; retrying`);
      throw error;
    } finally {
      this.active -= 1;
    }
  }

  /** Queues again sends stored but never queued (the API stopped between the two, or Redis was away). */
  async sweep(): Promise<void> {
    for (const stale of await this.repository.stale(SWEEP_AGE_MS)) await this.queue.add(stale.id, stale.created_at.getTime());
  }
}
