import { Inject, Injectable, Logger } from '@nestjs/common';
import { Job, Worker } from 'bullmq';
import Redis from 'ioredis';
import { closeWithin } from '@app/async';
import { turnBatcher } from '@app/batching';
import { Clock, CLOCK } from '@app/clock';
import { APP_CONFIG, AppConfig } from '@app/config';
import { REDIS } from '@app/redis';
import { subscribesTo } from '../webhook-event-types';
import { DeliveryJobData, WEBHOOK_FANOUT_QUEUE, WebhookQueues } from '../webhook-queues';
import { WebhooksRepository } from '../webhooks.repository';

/** Fan-out jobs processed at once per process; their endpoint reads and adds share round trips per turn. */
const FANOUT_CONCURRENCY = 64;

/**
 * Turns each `webhook-fanout` job (an event, published with its `mail-events` twin in one transaction) into
 * one delivery job per enabled endpoint subscribed to its type, on the endpoints' own queues, under the
 * event's id. The job completes only after the adds: a process that dies before is replaced by another that
 * takes the stalled job and adds again, and BullMQ keeps the deliveries already added (same ids).
 * The endpoints are read from Postgres for each turn's jobs, so an endpoint registered before an event was
 * published receives it.
 */
@Injectable()
export class WebhookFanoutWorker {
  private readonly logger = new Logger(WebhookFanoutWorker.name);
  private worker?: Worker;
  private connection?: Redis;
  private sequence = 0;
  private readonly subscriptions = turnBatcher<number, { id: string; events: string[] }[]>({
    key: (n) => String(n),
    run: async (calls) => {
      const rows = await this.repository.subscriptions();
      return calls.map(() => rows);
    },
  });
  private readonly addDeliveries = turnBatcher<{ endpointId: string; data: DeliveryJobData }, void>({
    key: (delivery) => `${delivery.endpointId}.${delivery.data.event.id}`,
    run: async (deliveries) => {
      await this.queues.add(deliveries);
      return deliveries.map(() => undefined);
    },
    maxBatchSize: 2000,
  });

  constructor(
    private readonly repository: WebhooksRepository,
    private readonly queues: WebhookQueues,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  start(): void {
    this.connection = this.redis.duplicate({ maxRetriesPerRequest: null, connectionName: 'mail-listener-webhook-fanout' });
    this.worker = new Worker(WEBHOOK_FANOUT_QUEUE, (job) => this.fanOut(job), {
      connection: this.connection,
      prefix: this.config.queuePrefix,
      concurrency: FANOUT_CONCURRENCY,
      maxStalledCount: 100,
    });
    this.worker.on('error', (error) => this.logger.warn(`${WEBHOOK_FANOUT_QUEUE} worker: ${error.message}`));
  }

  async stop(): Promise<void> {
    // A fan-out takes milliseconds; a Redis that is away is not waited for.
    if (this.worker) await closeWithin(this.worker, 3_000);
    this.connection?.disconnect();
  }

  private async fanOut(job: Job<DeliveryJobData['event']>): Promise<number> {
    const event = job.data;
    const endpoints = (await this.subscriptions(this.sequence++)).filter((endpoint) => subscribesTo(endpoint.events, event.type));
    const queuedAt = this.clock.now();
    await Promise.all(endpoints.map((endpoint) => this.addDeliveries({ endpointId: endpoint.id, data: { event, queuedAt } })));
    return endpoints.length;
  }
}
