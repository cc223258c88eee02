import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Job, Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { withTimeout } from '@app/async';
import { MailboxLeaseRepository } from '@app/cluster';
import { APP_CONFIG, AppConfig } from '@app/config';
import { GRAPH_NOTIFICATIONS_QUEUE, GraphNotificationItem, GraphNotificationJob } from '@app/graph';
import { closeBullWithin, closeWithinMs, redisAway } from '@app/queues';
import { REDIS } from '@app/redis';
import { MailboxSupervisor } from '../mailbox.supervisor';
import { SyncMetrics } from '../sync.metrics';
import { GraphNotificationForwarder } from './graph-notification.forwarder';
import { forwardedJobId, replicaNotificationsQueue, routeByOwner } from './graph-notification.routes';

/** How long shutdown waits for a worker to close (its jobs in progress are delta rounds: seconds at most). */
const WORKER_CLOSE_MS = 5_000;
/** Jobs taken at once, per worker. */
const CONCURRENCY = 16;

/**
 * Gets each Graph notification to the replica that runs its mailbox. Every replica takes jobs off the
 * shared `graph-notifications` (filled by the API's webhook receiver) and looks the mailboxes up in
 * mailbox_leases: items for a mailbox another live replica holds go onto that replica's own queue
 * (`graph-notifications.<replica id>`, consumed by it alone); the rest go to this replica's Graph runner,
 * which runs a delta round for the folder.
 *
 * An item nobody here runs is dropped, safely: what is published always comes from delta, never from the
 * notification, and every runner runs a delta from the stored link when it opens (start, takeover,
 * hand-over) — after the mail the notification announced had arrived. So a mailbox without an owner now,
 * or whose lease moved on while the item was on its way, loses nothing: its next owner's first delta
 * covers it. Only a runner that is listening must see the item, and that runner is on its lease owner.
 * A shared job is complete once routed (a crash before that routes it again: forwards under the same job
 * id are dropped by BullMQ, and a second delta round publishes nothing new).
 *
 * The shared queue's worker is this class's @Processor (@nestjs/bullmq: shared REDIS connection, prefix,
 * a close bounded at WORKER_CLOSE_MS; see @app/queues); it starts taking jobs at bootstrap, as the own
 * queue's does. The own queue's name holds this replica's id, known from the config at run time only, while
 * a @Processor names its queue when the class is declared: that worker stays a plain BullMQ Worker.
 */
@Injectable()
@Processor(GRAPH_NOTIFICATIONS_QUEUE, { concurrency: CONCURRENCY, autorun: false, ...closeWithinMs(WORKER_CLOSE_MS) })
export class GraphNotificationWorker extends WorkerHost<Worker<GraphNotificationJob>> implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(GraphNotificationWorker.name);
  private own?: Worker<GraphNotificationJob>;
  private readonly connections: Redis[] = [];

  constructor(
    private readonly supervisor: MailboxSupervisor,
    private readonly leases: MailboxLeaseRepository,
    private readonly forwarder: GraphNotificationForwarder,
    private readonly metrics: SyncMetrics,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  private get me(): string {
    return this.config.listener.id;
  }

  onApplicationBootstrap(): void {
    this.own = this.ownWorker(replicaNotificationsQueue(this.me), 'mail-listener-graph-own', (job) => this.deliver(job.data.items));
    void this.worker.run().catch((error: Error) => this.onWorkerError(error));
  }

  /** A shared job (the @Processor's). */
  process(job: Job<GraphNotificationJob>): Promise<void> {
    return this.route(job);
  }

  @OnWorkerEvent('error')
  onWorkerError(error: Error): void {
    this.logger.warn(`${GRAPH_NOTIFICATIONS_QUEUE} worker: ${error.message}`);
  }

  /**
   * Stops taking jobs off the shared queue (the others route them), while this replica's own queue keeps
   * reaching the mailboxes it still runs: for a replica that is draining.
   */
  async stopTakingShared(): Promise<void> {
    // Bounded (BoundedWorker); the same close Nest awaits at shutdown.
    await this.worker.close();
  }

  /** SIGTERM: the replica drains (MailboxSupervisor, at the same time); the others route the shared jobs meanwhile. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.stopTakingShared().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.worker.close(), this.own && this.closeWorker(this.own)]);
    // What still waits on this replica's own queue is for mailboxes others take over now: their first delta
    // covers it, and a queue nobody reads would stay in Redis for good.
    const own = new Queue(replicaNotificationsQueue(this.me), { connection: this.redis, prefix: this.config.queuePrefix });
    if (!redisAway(own)) await withTimeout(own.obliterate({ force: true }), 2_000).catch(() => undefined);
    await own.close().catch(() => undefined);
    for (const connection of this.connections) connection.disconnect();
  }

  /** Waits for the jobs in progress (delta rounds: seconds at most), but not for a Redis that is away (closeBullWithin). */
  private async closeWorker(worker: Worker<GraphNotificationJob>): Promise<void> {
    if (!(await closeBullWithin(worker, WORKER_CLOSE_MS))) this.logger.warn(`${worker.name} worker: not closed within ${WORKER_CLOSE_MS} ms (Redis away?); leaving it`);
  }

  private ownWorker(queue: string, connectionName: string, process: (job: Job<GraphNotificationJob>) => Promise<void>): Worker<GraphNotificationJob> {
    // A worker blocks its connection waiting for jobs: each needs its own.
    const connection = this.redis.duplicate({ maxRetriesPerRequest: null, connectionName });
    this.connections.push(connection);
    const worker = new Worker<GraphNotificationJob>(queue, process, { connection, prefix: this.config.queuePrefix, concurrency: CONCURRENCY });
    worker.on('error', (error) => this.logger.warn(`${queue} worker: ${error.message}`));
    return worker;
  }

  /** A shared job: forward what others run, deliver the rest here. A failed lookup or forward fails the job, and BullMQ retries it. */
  private async route(job: Job<GraphNotificationJob>): Promise<void> {
    const mailboxIds = [...new Set(job.data.items.map((item) => item.mailboxId))];
    const owners = await this.leases.liveOwners(mailboxIds, this.config.cluster.leaseTtlMs);
    const { local, forward } = routeByOwner(job.data.items, owners, this.me);
    for (const [owner, items] of forward) {
      await this.forwarder.forward(owner, { receivedAt: job.data.receivedAt, items }, forwardedJobId(job.id!));
      this.metrics.graphNotificationsRouted.inc({ route: 'forwarded' }, items.length);
    }
    await this.deliver(local);
  }

  /** To this replica's Graph runners; an item for a mailbox not running here is dropped (see above). */
  private async deliver(items: GraphNotificationItem[]): Promise<void> {
    for (const item of items) {
      const runner = this.supervisor.graphRunner(item.mailboxId);
      runner?.onNotification(item);
      this.metrics.graphNotificationsRouted.inc({ route: runner ? 'local' : 'dropped' });
    }
  }
}
