import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { closeRedisConnections } from './close-redis';

export const REDIS = Symbol('REDIS');

/** One warning per outage (ioredis retries on its own), not one per reconnect attempt. */
function reportConnectionErrors(redis: Redis, logger = new Logger('Redis')): void {
  let reported = false;
  redis.on('error', (error: Error) => {
    if (reported) return;
    reported = true;
    logger.warn(`Redis connection failed (${error.message}); retrying`);
  });
  redis.on('ready', () => {
    if (reported) logger.log('Redis connection restored');
    reported = false;
  });
}

/**
 * The shared Redis connection (BullMQ queues and short-lived locks only: Postgres is the source of truth).
 * Started lazily-tolerant: a Redis outage makes /health/ready fail instead of crashing the process.
 */
@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null, enableOfflineQueue: true, connectionName: 'mail-listener' });
        reportConnectionErrors(redis);
        return redis;
      },
    },
  ],
  exports: [REDIS],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await closeRedisConnections([this.redis]);
  }
}
