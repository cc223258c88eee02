import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { Job, Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { backoffDelay, closeWithin } from '@app/async';
import { Clock, CLOCK } from '@app/clock';
import { APP_CONFIG, AppConfig } from '@app/config';
import { SecretBox } from '@app/crypto';
import { MAIL_EVENTS_QUEUE } from '@app/events';
import { GRAPH_NOTIFICATIONS_QUEUE } from '@app/graph';
import { closeBullWithin } from '@app/queues';
import { REDIS } from '@app/redis';
import { DeliveryJobData, deliveryQueueName, WEBHOOK_DELIVERIES_QUEUE, WEBHOOK_FANOUT_QUEUE, WebhookQueues } from '../webhook-queues';
import { WebhooksRepository } from '../webhooks.repository';
import { fingerprintOf, LiveEndpoint, openEndpoint } from './live-endpoints';
import { WEBHOOK_SENDER, WebhookDeliveryProcessor } from './webhook-delivery.processor';
import { WebhookFanoutWorker } from './webhook-fanout.worker';
import { nextAttemptDelay } from './retry-after';
import { WebhookSender } from './webhook-sender';
import { WebhookMetrics } from './webhook.metrics';

/** Endpoints are re-read this often: a registration, change, rotation or disable reaches every delivering process within it. */
const RECONCILE_MS = 1_000;
/** Shutdown waits this long for a worker's attempts in flight (the delivery timeout is 10 s). */
const WORKER_CLOSE_MS = 11_000;
/** The delivery log keeps a week of attempts. */
const LOG_RETENTION_MS = 7 * 24 * 3600_000;
const PRUNE_EVERY_MS = 3600_000;
/** States counted by the queue gauges; "backlog" is every one but completed and failed. */
const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;
const PENDING = new Set(['waiting', 'active', 'delayed', 'prioritized']);

/**
 * Runs the webhook deliveries of this process: the fan-out worker, and one BullMQ Worker per enabled
 * endpoint on that endpoint's queue with WEBHOOK_ENDPOINT_CONCURRENCY slots. Why one queue and worker per
 * endpoint: an endpoint that takes 10 s per call can fill only its own slots, so a healthy endpoint's
 * deliveries never wait behind it (one shared queue with N slots would let a hanging endpoint's jobs take
 * all N). Every delivering process runs a worker for every enabled endpoint; BullMQ hands each job to one.
 * A job's lock is renewed while it runs; a process killed mid-delivery leaves a stalled job that another
 * (or the restarted) process takes again after the lock expires.
 */
@Injectable()
export class WebhookDeliveryWorkers implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(WebhookDeliveryWorkers.name);
  private readonly endpoints = new Map<string, LiveEndpoint>();
  private readonly workers = new Map<string, { worker: Worker<DeliveryJobData>; connection: Redis }>();
  private timer?: NodeJS.Timeout;
  private reconciling?: Promise<void>;
  private lastPrune = 0;
  private stopped = false;
  /** The shared queues whose depth is reported (webhook-deliveries: the sum of the endpoint queues). */
  private readonly sharedQueues: Queue[];
  private depths?: { at: number; done: Promise<void> };
  private counts?: { at: number; done: Promise<void> };

  constructor(
    private readonly repository: WebhooksRepository,
    private readonly processor: WebhookDeliveryProcessor,
    private readonly fanout: WebhookFanoutWorker,
    private readonly queues: WebhookQueues,
    private readonly box: SecretBox,
    private readonly metrics: WebhookMetrics,
    @Inject(WEBHOOK_SENDER) private readonly sender: WebhookSender,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    // WebhookDeliveryModule's (@nestjs/bullmq): Nest closes them.
    @InjectQueue(MAIL_EVENTS_QUEUE) mailEvents: Queue,
    @InjectQueue(WEBHOOK_FANOUT_QUEUE) fanoutQueue: Queue,
    @InjectQueue(GRAPH_NOTIFICATIONS_QUEUE) graphNotifications: Queue,
  ) {
    this.sharedQueues = [mailEvents, fanoutQueue, graphNotifications];
    for (const queue of this.sharedQueues) queue.on('error', () => undefined);
    // Both gauges come from one read of the queues per scrape.
    this.metrics.queueDepths = () => this.queueDepths();
    this.metrics.endpointCounts = () => this.endpointCounts();
  }

  private endpointCounts(): Promise<void> {
    const now = Date.now();
    if (!this.counts || now - this.counts.at > 1_000) {
      const done = this.repository
        .countByState()
        .then((counts) => {
          for (const state of ['healthy', 'failing', 'disabled'] as const) this.metrics.endpoints.set({ state }, counts[state]);
          this.metrics.failingSeconds.set(counts.failingSince ? Math.max(0, (this.clock.now() - new Date(counts.failingSince).getTime()) / 1000) : 0);
        })
        .catch(() => undefined);
      this.counts = { at: now, done };
    }
    return this.counts.done;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.fanout.start();
    await this.reconcile().catch((error: unknown) => this.logger.warn(`Reading webhook endpoints failed: ${describe(error)}`));
    this.timer = setInterval(() => void this.tick(), RECONCILE_MS);
    this.timer.unref();
  }

  /** SIGTERM: stop taking jobs and let the attempts in flight finish (at most the 10 s timeout). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.reconciling?.catch(() => undefined);
    await Promise.all([this.fanout.stop(), ...[...this.workers.keys()].map((id) => this.stopWorker(id))]);
  }

  async onApplicationShutdown(): Promise<void> {
    await closeWithin(this.sender, WORKER_CLOSE_MS);
    await this.queues.close();
  }

  /** Re-reads the endpoints: opens changed ones, starts workers for enabled ones, stops the others. */
  reconcile(): Promise<void> {
    // A read that started before this call may have missed the change the caller made: run one after it.
    const run = (this.reconciling ?? Promise.resolve()).catch(() => undefined).then(() => this.reconcileOnce());
    this.reconciling = run;
    void run.finally(() => {
      if (this.reconciling === run) this.reconciling = undefined;
    }).catch(() => undefined);
    return run;
  }

  private async tick(): Promise<void> {
    try {
      await this.reconcile();
      const now = this.clock.now();
      if (now - this.lastPrune >= PRUNE_EVERY_MS) {
        this.lastPrune = now;
        await this.repository.pruneAttempts(new Date(now - LOG_RETENTION_MS));
      }
    } catch (error) {
      this.logger.warn(`Reading webhook endpoints failed: ${describe(error)}`);
    }
  }

  private async reconcileOnce(): Promise<void> {
    const rows = await this.repository.all();
    if (this.stopped) return;
    const seen = new Set<string>();
    for (const row of rows) {
      seen.add(row.id);
      const known = this.endpoints.get(row.id);
      if (!known || known.fingerprint !== fingerprintOf(row)) {
        try {
          this.endpoints.set(row.id, openEndpoint(row, this.box));
        } catch (error) {
          this.logger.error(`Webhook ${row.id}: cannot open its secret (${describe(error)}); not delivering to it`);
          this.endpoints.delete(row.id);
          continue;
        }
      } else {
        known.failing = row.failingSince !== null;
      }
      if (row.enabled && !this.workers.has(row.id)) this.startWorker(row.id);
      if (!row.enabled && this.workers.has(row.id)) void this.stopWorker(row.id);
    }
    for (const id of [...this.endpoints.keys()]) {
      if (seen.has(id)) continue;
      this.endpoints.delete(id);
      void this.stopWorker(id);
    }
  }

  private startWorker(endpointId: string): void {
    const connection = this.redis.duplicate({ maxRetriesPerRequest: null, connectionName: 'mail-listener-webhook-delivery' });
    const retry = { ...this.config.webhooks.retry, jitter: 'equal' as const };
    const worker = new Worker<DeliveryJobData>(deliveryQueueName(endpointId), (job) => this.deliver(endpointId, job), {
      connection,
      prefix: this.config.queuePrefix,
      concurrency: this.config.webhooks.endpointConcurrency,
      // Renewed every half while an attempt runs; after a crash the job is taken again this long after.
      lockDuration: 15_000,
      stalledInterval: 5_000,
      maxStalledCount: 100,
      // An endpoint's Retry-After (429/503) is a floor under the backoff (see WebhookDeliveryProcessor).
      settings: { backoffStrategy: (attemptsMade: number, _type?: string, error?: Error) => nextAttemptDelay(backoffDelay(attemptsMade - 1, retry), error) },
    });
    worker.on('error', (error) => this.logger.warn(`${deliveryQueueName(endpointId)} worker: ${error.message}`));
    this.workers.set(endpointId, { worker, connection });
  }

  private async stopWorker(endpointId: string): Promise<void> {
    const running = this.workers.get(endpointId);
    if (!running) return;
    this.workers.delete(endpointId);
    // Attempts in flight end within the 10 s delivery timeout; a Redis that is away is not waited for.
    await closeBullWithin(running.worker, WORKER_CLOSE_MS);
    running.connection.disconnect();
  }

  private async deliver(endpointId: string, job: Job<DeliveryJobData>): Promise<void> {
    const endpoint = this.endpoints.get(endpointId);
    if (!endpoint || !endpoint.enabled) throw new Error('the endpoint is disabled or deleted; the delivery waits');
    await this.processor.deliver(endpoint, job, (id) => void this.stopWorker(id));
  }

  private queueDepths(): Promise<void> {
    const now = Date.now();
    if (!this.depths || now - this.depths.at > 1_000) this.depths = { at: now, done: this.collectQueueDepths().catch(() => undefined) };
    return this.depths.done;
  }

  private async collectQueueDepths(): Promise<void> {
    const totals = new Map<string, Record<string, number>>();
    const add = (queue: string, counts: Record<string, number>) => {
      const total = totals.get(queue) ?? {};
      for (const state of STATES) total[state] = (total[state] ?? 0) + (counts[state] ?? 0);
      totals.set(queue, total);
    };
    for (const queue of this.sharedQueues) add(queue.name, await queue.getJobCounts(...STATES));
    add(WEBHOOK_DELIVERIES_QUEUE, {});
    for (const id of this.endpoints.keys()) add(WEBHOOK_DELIVERIES_QUEUE, await this.queues.deliveries(id).getJobCounts(...STATES));
    for (const [queue, counts] of totals) for (const state of STATES) this.metrics.queueJobs.set({ queue, state }, counts[state]);
    const deliveries = totals.get(WEBHOOK_DELIVERIES_QUEUE)!;
    this.metrics.backlog.set(Object.entries(deliveries).reduce((sum, [state, n]) => sum + (PENDING.has(state) ? n : 0), 0));
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
