import { ServerRedis } from '@nestjs/microservices';
import type { Redis } from 'ioredis';
import { closeRedisConnections } from '@app/redis';

/**
 * Nest's Redis transport server, made to suit a listener that must start and stop whether or not Redis
 * answers (its readiness reports Redis down; the periodic reconcile does the work meanwhile):
 * - listen() resolves at once and subscribes without waiting: ioredis keeps the SUBSCRIBE queued until
 *   Redis answers and subscribes again after every reconnect (ServerRedis subscribes only after a first
 *   successful connect, and its listen() rejects when Redis is down, which failed the listener's start);
 * - closing while Redis is out of reach resolves at once (closeRedisConnections);
 * - a lost connection is logged once at warn until it is back, not at error on every retry.
 */
export class ControlRedisServer extends ServerRedis {
  private unreachable = false;

  override start(callback?: () => void): void {
    this.bindEvents(this.subClient, this.pubClient);
    // A first connect that fails is retried by ioredis (retryAttempts); its error is logged by the listener below.
    for (const client of [this.subClient, this.pubClient]) void client.connect().catch(() => undefined);
    callback?.();
  }

  override async close(): Promise<void> {
    this.isManuallyClosed = true;
    await closeRedisConnections([this.subClient, this.pubClient]);
    this.pendingEventListeners = [];
  }

  override registerErrorListener(client: Redis): void {
    client.on('error', (error: Error) => {
      if (this.unreachable) return;
      this.unreachable = true;
      this.logger.warn(`Redis for control messages out of reach (the periodic reconcile acts meanwhile): ${error.message}`);
    });
    client.on('ready', () => {
      this.unreachable = false;
    });
  }
}
