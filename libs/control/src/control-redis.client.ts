import { ClientRedis } from '@nestjs/microservices';
import type { Redis } from 'ioredis';
import { closeRedisConnections } from '@app/redis';

/**
 * Nest's Redis client, made to suit fire-and-forget messages an API must not depend on:
 * - a first connection that failed is tried again at the next message;
 * - closing while Redis is out of reach resolves at once (ClientRedis's quit() rejects on a lost
 *   connection, which made the API's shutdown fail and exit 1; see closeRedisConnections);
 * - a lost connection is logged once at warn until it is back (ClientRedis logs every retry's error at
 *   error level: one line a second while Redis is down, for something the reconcile catches up on).
 */
export class ControlRedisClient extends ClientRedis {
  private unreachable = false;

  /**
   * ClientRedis keeps a first connection that failed (Redis down when the API sent its first message) and
   * answers every later emit with the same rejection; this starts afresh on the next emit instead.
   */
  override async connect(): Promise<any> {
    try {
      return await super.connect();
    } catch (error) {
      await closeRedisConnections([this.pubClient, this.subClient]);
      this.pubClient = this.subClient = null as unknown as Redis;
      throw error;
    }
  }

  override async close(): Promise<void> {
    this.isManuallyClosed = true;
    this.handleClose();
    await closeRedisConnections([this.pubClient, this.subClient]);
    this.pubClient = this.subClient = null as unknown as Redis;
    this.pendingEventListeners = [];
  }

  override registerErrorListener(client: Redis): void {
    client.on('error', (error: Error) => {
      if (this.unreachable) return;
      this.unreachable = true;
      this.logger.warn(`Redis for control messages out of reach (messages are dropped until it is back): ${error.message}`);
    });
    client.on('ready', () => {
      this.unreachable = false;
    });
  }
}
