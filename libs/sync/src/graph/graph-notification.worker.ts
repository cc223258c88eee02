import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Job, Worker } from 'bullmq';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { GRAPH_NOTIFICATIONS_QUEUE, GraphNotificationJob } from '@app/graph';
import { REDIS } from '@app/redis';
import { MailboxSupervisor } from '../mailbox.supervisor';

/**
 * Consumes `graph-notifications` (filled by the API's webhook receiver) and hands each item to the Graph
 * runner of its mailbox, which runs a delta round for the folder. A job is done once routed: the delta
 * stores its link only after publishing, and every (re)start runs a delta from the stored link, so a
 * crash after this point loses nothing. Items for a mailbox this listener does not run (yet) are dropped
 * for the same reason: its first delta covers them.
 */
@Injectable()
export class GraphNotificationWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(GraphNotificationWorker.name);
  private worker?: Worker<GraphNotificationJob>;
  private connection?: Redis;

  constructor(
    private readonly supervisor: MailboxSupervisor,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    // A worker blocks its connection waiting for jobs: it needs its own.
    this.connection = this.redis.duplicate({ maxRetriesPerRequest: null, connectionName: 'mail-listener-graph-worker' });
    this.worker = new Worker<GraphNotificationJob>(GRAPH_NOTIFICATIONS_QUEUE, (job) => this.route(job), {
      connection: this.connection,
      prefix: this.config.queuePrefix,
      concurrency: 16,
    });
    this.worker.on('error', (error) => this.logger.warn(`graph-notifications worker: ${error.message}`));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close().catch(() => undefined);
    this.connection?.disconnect();
  }

  private async route(job: Job<GraphNotificationJob>): Promise<void> {
    for (const item of job.data.items) this.supervisor.graphRunner(item.mailboxId)?.onNotification(item);
  }
}
