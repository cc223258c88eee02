import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { JobsOptions, Queue } from 'bullmq';
import Redis from 'ioredis';
import { withTimeout } from '@app/async';
import { APP_CONFIG, AppConfig } from '@app/config';
import { REDIS } from '@app/redis';
import { GRAPH_NOTIFICATIONS_JOB, GRAPH_NOTIFICATIONS_QUEUE, GraphNotificationJob } from './graph-notification.job';
import { GRAPH_INTAKE_OPTIONS, GraphIntakeOptions } from './graph-intake.options';

/** ioredis states in which a command cannot succeed (before the first connection it is `connecting`/`wait`). */
const DOWN = new Set(['reconnecting', 'close', 'end']);

const JOB_OPTIONS: JobsOptions = {
  // The listener runs a delta per job; a failed run is retried a few times, then kept a day for inspection.
  attempts: 5,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: true,
  removeOnFail: { age: 24 * 3600 },
};

/**
 * The producer side of `graph-notifications`. It has its own connection, duplicated from the shared REDIS
 * client, because the shared one queues commands while Redis is away (fine for the listener's workers):
 * here a command must fail at once instead, so the POST is answered 503 and Graph delivers it again,
 * and an outage cannot pile up notification batches in memory.
 */
@Injectable()
export class GraphNotificationQueue implements OnModuleDestroy {
  private readonly logger = new Logger(GraphNotificationQueue.name);
  private readonly connection: Redis;
  private readonly queue: Queue;
  private outage = false;

  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(GRAPH_INTAKE_OPTIONS) private readonly options: GraphIntakeOptions,
  ) {
    this.connection = redis.duplicate({ enableOfflineQueue: false, maxRetriesPerRequest: 0, connectionName: 'mail-listener-graph-intake' });
    this.queue = new Queue<GraphNotificationJob>(GRAPH_NOTIFICATIONS_QUEUE, { connection: this.connection, prefix: config.queuePrefix });
    // One line per outage; each failed POST is reported by the receiver anyway.
    this.queue.on('error', (error: Error) => {
      if (!this.outage) this.logger.warn(`graph-notifications queue connection failed (${error.message})`);
      this.outage = true;
    });
    this.connection.on('ready', () => (this.outage = false));
  }

  /** Resolves once the job is stored in Redis; rejects (never hangs past the budget) otherwise. */
  async enqueue(job: GraphNotificationJob): Promise<void> {
    // Known to be down: say so now rather than after the budget (the connection keeps retrying by itself).
    if (DOWN.has(this.connection.status)) throw new Error(`Redis connection is ${this.connection.status}`);
    await withTimeout(
      this.queue.add(GRAPH_NOTIFICATIONS_JOB, job, JOB_OPTIONS),
      this.options.enqueueTimeoutMs,
      `Enqueueing Graph notifications did not finish within ${this.options.enqueueTimeoutMs} ms`,
    );
  }

  async onModuleDestroy(): Promise<void> {
    // close() waits for a connection that may never have come up (Redis down since start): bound it.
    await withTimeout(this.queue.close(), 2_000).catch(() => undefined);
    if (this.connection.status !== 'end') this.connection.disconnect();
  }
}
