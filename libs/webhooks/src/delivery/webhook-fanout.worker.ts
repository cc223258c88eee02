import { Inject, Injectable, Logger } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { Backoff, backoffDelay } from '@app/async';
import { turnBatcher } from '@app/batching';
import { Clock, CLOCK } from '@app/clock';
import { closeWithinMs } from '@app/queues';
import { subscribesTo } from '../webhook-event-types';
import { DeliveryJobData, WEBHOOK_FANOUT_QUEUE, WebhookQueues } from '../webhook-queues';
import { WebhooksRepository } from '../webhooks.repository';

/** Fan-out jobs processed at once per process; their endpoint reads and adds share round trips per turn. */
const FANOUT_CONCURRENCY = 64;

/** A failed fan-out is tried again after 1 s, doubling to at most a minute (equal jitter); see FANOUT_ATTEMPTS. */
export const FANOUT_RETRY: Backoff = { baseMs: 1_000, maxMs: 60_000, jitter: 'equal' };

/**
 * Turns each `webhook-fanout` job (an event, published with its `mail-events` twin in one transaction) into
 * one delivery job per enabled endpoint subscribed to its type, on the endpoints' own queues, under the
 * event's id. The job completes only after the adds: a process that dies before is replaced by another that
 * takes the stalled job and adds again, and BullMQ keeps the deliveries already added (same ids).
 * The endpoints are read from Postgres for each turn's jobs, so an endpoint registered before an event was
 * published receives it.
 *
 * A @Processor (@nestjs/bullmq: shared REDIS connection, QUEUE_PREFIX), declared only in
 * WebhookDeliveryModule, so only processes that deliver webhooks take these jobs. Started and stopped by
 * WebhookDeliveryWorkers with the delivery workers; a fan-out takes milliseconds and its close does not
 * wait for a Redis that is away (3 s bound, see @app/queues).
 */
@Injectable()
@Processor(WEBHOOK_FANOUT_QUEUE, {
  concurrency: FANOUT_CONCURRENCY,
  maxStalledCount: 100,
  autorun: false,
  ...closeWithinMs(3_000),
  settings: { backoffStrategy: (attemptsMade: number) => backoffDelay(attemptsMade - 1, FANOUT_RETRY) },
})
export class WebhookFanoutWorker extends WorkerHost {
  private readonly logger = new Logger(WebhookFanoutWorker.name);
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
  ) {
    super();
  }

  start(): void {
    void this.worker.run().catch((error: Error) => this.onWorkerError(error));
  }

  stop(): Promise<void> {
    return this.worker.close();
  }

  @OnWorkerEvent('error')
  onWorkerError(error: Error): void {
    this.logger.warn(`${WEBHOOK_FANOUT_QUEUE} worker: ${error.message}`);
  }

  process(job: Job<DeliveryJobData['event']>): Promise<number> {
    return this.fanOut(job);
  }

  private async fanOut(job: Job<DeliveryJobData['event']>): Promise<number> {
    const event = job.data;
    const endpoints = (await this.subscriptions(this.sequence++)).filter((endpoint) => subscribesTo(endpoint.events, event.type));
    const queuedAt = this.clock.now();
    await Promise.all(endpoints.map((endpoint) => this.addDeliveries({ endpointId: endpoint.id, data: { event, queuedAt } })));
    return endpoints.length;
  }
}
