import { ClientRedis } from '@nestjs/microservices';
import type { Redis } from 'ioredis';

/**
 * Nest's Redis client, made to suit fire-and-forget messages an API must not depend on:
 * - closing while Redis is out of reach resolves (ClientRedis's quit() rejects on a lost connection,
 *   which made the API's shutdown fail and exit 1);
 * - a lost connection is logged once at warn until it is back (ClientRedis logs every retry's error at
 *   error level: one line a second while Redis is down, for something the reconcile catches up on).
 */
export class ControlRedisClient extends ClientRedis {
  private unreachable = false;

  override async close(): Promise<void> {
    const clients = [this.pubClient, this.subClient];
    try {
      await super.close();
    } catch {
      for (const client of clients) client?.disconnect();
      this.pubClient = this.subClient = null as unknown as Redis;
    }
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
