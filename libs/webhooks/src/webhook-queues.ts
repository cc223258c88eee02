import { FlowJob, FlowProducer, Queue } from 'bullmq';
import Redis from 'ioredis';
import { closeBullWithin } from '@app/queues';
import { WEBHOOK_FANOUT_QUEUE } from '@app/events';

export { WEBHOOK_FANOUT_QUEUE };

/**
 * Each endpoint has a delivery queue of its own (`webhook-deliveries.<endpointId>`) with its own workers,
 * so an endpoint that hangs fills only its own worker slots: the others' deliveries never wait behind it
 * (no head-of-line blocking), and a disabled endpoint's pending deliveries wait in its queue.
 */
export const WEBHOOK_DELIVERIES_QUEUE = 'webhook-deliveries';

/** The flow producer (Nest provider name, see WebhookDeliveryModule and WebhooksModule) that adds deliveries. */
export const WEBHOOK_DELIVERIES_FLOW = 'webhook-deliveries';

export function deliveryQueueName(endpointId: string): string {
  return `${WEBHOOK_DELIVERIES_QUEUE}.${endpointId}`;
}

/** Completed deliveries are kept this long: a fan-out run again (stalled job) finds them and adds nothing. */
export const KEEP_DELIVERED_SECONDS = 24 * 3600;
/** Failed ones (given up) a week: the delivery log's retry button re-runs them. */
export const KEEP_FAILED_SECONDS = 7 * 24 * 3600;
/** Attempts are bounded by time (24 h, see WebhookDeliveryProcessor), not by count. */
const MAX_ATTEMPTS = 100_000;

/** Data of a delivery job: the event as it is delivered, and when it was queued (clock time; the retry window starts there). */
export interface DeliveryJobData {
  event: { id: string; type: string } & Record<string, unknown>;
  queuedAt: number;
}

export function deliveryFlow(endpointId: string, data: DeliveryJobData, prefix: string): FlowJob {
  return {
    name: data.event.type,
    queueName: deliveryQueueName(endpointId),
    prefix,
    data,
    opts: {
      jobId: data.event.id,
      attempts: MAX_ATTEMPTS,
      backoff: { type: 'webhook' },
      removeOnComplete: { age: KEEP_DELIVERED_SECONDS },
      removeOnFail: { age: KEEP_FAILED_SECONDS },
    },
  };
}

/**
 * The delivery queues, opened on demand (one Queue object per endpoint), plus one FlowProducer for adding to
 * several at once. The flow producer is the owning module's (@nestjs/bullmq, closed by Nest); the endpoint
 * queues stay plain BullMQ: they come and go with the endpoints at run time, while @nestjs/bullmq declares
 * its queues, by name, when the module is built.
 */
export class WebhookQueues {
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly redis: Redis,
    readonly flows: FlowProducer,
    readonly prefix: string,
  ) {
    this.flows.on('error', () => undefined);
  }

  deliveries(endpointId: string): Queue<DeliveryJobData> {
    let queue = this.queues.get(endpointId);
    if (!queue) {
      queue = new Queue(deliveryQueueName(endpointId), { connection: this.redis, prefix: this.prefix });
      queue.on('error', () => undefined);
      this.queues.set(endpointId, queue);
    }
    return queue as Queue<DeliveryJobData>;
  }

  /** Adds deliveries (to one or several endpoints) in one MULTI; an id already queued is kept as it is. */
  async add(deliveries: { endpointId: string; data: DeliveryJobData }[]): Promise<void> {
    if (deliveries.length === 0) return;
    await this.flows.addBulk(deliveries.map(({ endpointId, data }) => deliveryFlow(endpointId, data, this.prefix)));
  }

  /** Drops an endpoint's queue and everything in it (the endpoint was deleted). */
  async drop(endpointId: string): Promise<void> {
    const queue = this.deliveries(endpointId);
    await queue.obliterate({ force: true });
    await queue.close();
    this.queues.delete(endpointId);
  }

  /** At shutdown: at most 2 s each, and 250 ms when Redis is away (closeBullWithin). The flow producer is Nest's to close. */
  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => closeBullWithin(queue, 2_000)));
    this.queues.clear();
  }
}
