import { RedisOptions, Transport } from '@nestjs/microservices';
import { AppConfig } from '@app/config';

/** How long between reconnect attempts to Redis, for the API's client and the listener's subscriber alike. */
const RETRY_DELAY_MS = 1_000;

/**
 * The Redis transport options from REDIS_URL. Nest's Redis transport gives up reconnecting unless
 * retryAttempts is set: a Redis restart would silence control messages for good, so it retries forever.
 */
export function controlTransport(config: AppConfig): RedisOptions {
  const url = new URL(config.redisUrl);
  const db = url.pathname.replace(/^\//, '');
  return {
    transport: Transport.REDIS,
    options: {
      host: url.hostname || '127.0.0.1',
      port: url.port ? Number(url.port) : 6379,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(db ? { db: Number(db) } : {}),
      ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
      retryAttempts: Number.MAX_SAFE_INTEGER,
      retryDelay: RETRY_DELAY_MS,
    },
  };
}
