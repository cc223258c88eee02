import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { JobsOptions, Queue } from 'bullmq';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { GRAPH_NOTIFICATIONS_JOB, GraphNotificationJob } from '@app/graph';
import { REDIS } from '@app/redis';
import { replicaNotificationsQueue } from './graph-notification.routes';

/**
 * Removed once routed: the id only has to deduplicate a forward repeated while the first still waits
 * (see forwardedJobId). Kept longer, a reused id (the shared queue's counter starts again after Redis
 * lost its data) would drop a new notification as a duplicate.
 */
const FORWARD_OPTIONS: JobsOptions = { attempts: 1, removeOnComplete: true, removeOnFail: true };

/** Replicas come and go (ids with a pid change on every restart): queue handles kept for at most this many. */
const MAX_QUEUES = 64;

/** Puts notification items on the queue of the replica that holds their mailbox. */
@Injectable()
export class GraphNotificationForwarder implements OnModuleDestroy {
  private readonly queues = new Map<string, Queue<GraphNotificationJob>>();

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async forward(owner: string, job: GraphNotificationJob, jobId: string): Promise<void> {
    await this.queueOf(owner).add(GRAPH_NOTIFICATIONS_JOB, job, { ...FORWARD_OPTIONS, jobId });
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close().catch(() => undefined)));
    this.queues.clear();
  }

  private queueOf(owner: string): Queue<GraphNotificationJob> {
    let queue = this.queues.get(owner);
    if (queue) {
      // Most recently used last: the first entry is the one to let go.
      this.queues.delete(owner);
      this.queues.set(owner, queue);
      return queue;
    }
    queue = new Queue<GraphNotificationJob>(replicaNotificationsQueue(owner), { connection: this.redis, prefix: this.config.queuePrefix });
    this.queues.set(owner, queue);
    if (this.queues.size > MAX_QUEUES) {
      const [oldest, handle] = this.queues.entries().next().value as [string, Queue];
      this.queues.delete(oldest);
      void handle.close().catch(() => undefined);
    }
    return queue;
  }
}
