import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Router } from 'express';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { MAIL_EVENTS_QUEUE, WEBHOOK_FANOUT_QUEUE } from '@app/events';
import { GRAPH_NOTIFICATIONS_QUEUE } from '@app/graph';
import { closeBullWithin } from '@app/queues';
import { REDIS } from '@app/redis';
import { MAIL_SEND_QUEUE } from '@app/sending';
import { deliveryQueueName, WebhooksService } from '@app/webhooks';
import { boardHtml } from './board-html';

export const QUEUES_PATH = '/console/queues';

/** Webhook endpoints read to find their delivery queues (the API's list page size at most). */
const ENDPOINTS_READ = 500;
/** The board's queue list is brought up to date at most this often (endpoints come and go at run time). */
const REFRESH_EVERY_MS = 2_000;


/**
 * Bull Board over every queue of the project: the four shared ones, and one delivery queue per webhook
 * endpoint (`webhook-deliveries.<id>`, see WebhookQueues), kept in step with the endpoints as they change.
 * Served by installQueueBoard behind the console's session.
 */
@Injectable()
export class QueueBoardService implements OnApplicationShutdown {
  private readonly server = new ExpressAdapter();
  private readonly board: ReturnType<typeof createBullBoard>;
  private readonly deliveryQueues = new Map<string, Queue>();
  private refreshed: { at: number; done: Promise<void> } | undefined;

  constructor(
    @InjectQueue(MAIL_EVENTS_QUEUE) mailEvents: Queue,
    @InjectQueue(WEBHOOK_FANOUT_QUEUE) fanout: Queue,
    @InjectQueue(MAIL_SEND_QUEUE) sends: Queue,
    @InjectQueue(GRAPH_NOTIFICATIONS_QUEUE) graph: Queue,
    private readonly webhooks: WebhooksService,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.server.setBasePath(QUEUES_PATH);
    this.board = createBullBoard({
      queues: [mailEvents, fanout, sends, graph].map((queue) => this.adapter(queue)),
      serverAdapter: this.server,
      options: {
        uiConfig: {
          boardTitle: 'Mail Listener queues',
          favIcon: { default: '/console/assets/favicon.svg', alternative: '/console/assets/favicon.svg' },
          miscLinks: [{ text: 'Back to the console', url: '/console' }],
          hideDocsLink: true,
          // Its Redis panel's logo is an SVG with an inline <style>, which the console's CSP refuses (the
          // memory and client numbers are in Redis's own monitoring).
          hideRedisDetails: true,
        },
      },
    });
    boardHtml(this.server.getRouter());
  }

  /** Whether the board may change queues (CONSOLE_QUEUE_ACTIONS=on); installQueueBoard checks the requests too. */
  get actionsAllowed(): boolean {
    return this.config.console.queueActions;
  }

  /** Read-only unless CONSOLE_QUEUE_ACTIONS=on: Bull Board then refuses retry, clean, pause and the rest, and hides their buttons. */
  private adapter(queue: Queue): BullMQAdapter {
    return new BullMQAdapter(queue, { readOnlyMode: !this.config.console.queueActions });
  }

  get router(): Router {
    return this.server.getRouter() as Router;
  }

  /** Adds the delivery queues of new endpoints and drops those of deleted ones (at most every 2 s, shared by concurrent requests). */
  refresh(now = Date.now()): Promise<void> {
    if (this.refreshed && now - this.refreshed.at < REFRESH_EVERY_MS) return this.refreshed.done;
    const done = this.syncDeliveryQueues().catch((error: unknown) => {
      this.refreshed = undefined; // try again on the next request
      throw error;
    });
    this.refreshed = { at: now, done };
    return done;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.deliveryQueues.values()].map((queue) => closeBullWithin(queue, 2_000)));
    this.deliveryQueues.clear();
  }

  private async syncDeliveryQueues(): Promise<void> {
    const { items } = await this.webhooks.list(ENDPOINTS_READ, 0);
    const ids = new Set(items.map((endpoint) => endpoint.id));
    for (const id of ids) {
      if (this.deliveryQueues.has(id)) continue;
      const queue = new Queue(deliveryQueueName(id), { connection: this.redis, prefix: this.config.queuePrefix });
      queue.on('error', () => undefined); // the shared connection reports its own outages (RedisModule)
      this.deliveryQueues.set(id, queue);
      this.board.addQueue(this.adapter(queue));
    }
    for (const [id, queue] of this.deliveryQueues) {
      if (ids.has(id)) continue;
      this.board.removeQueue(queue.name);
      this.deliveryQueues.delete(id);
      await closeBullWithin(queue, 2_000);
    }
  }
}
