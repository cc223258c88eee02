import { Job, Queue } from 'bullmq';
import Redis from 'ioredis';
import { AppConfig } from '@app/config';
import { MAIL_EVENTS_QUEUE } from '@app/events';

/** The `mail-events` queue of a test's configuration, as a consumer (the CRM) would see it. */
export class TestMailEvents {
  private readonly redis: Redis;
  readonly queue: Queue;

  constructor(private readonly config: AppConfig) {
    this.redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
    this.queue = new Queue(MAIL_EVENTS_QUEUE, { connection: this.redis, prefix: config.queuePrefix });
    // Tests may stop their Redis on purpose; BullMQ would print every reconnect attempt.
    this.queue.on('error', () => undefined);
  }

  async jobs(): Promise<Job[]> {
    return this.queue.getJobs(['waiting', 'active', 'completed', 'delayed', 'failed', 'prioritized']);
  }

  async job(id: string): Promise<Job | undefined> {
    return this.queue.getJob(id);
  }

  /** Deletes every key under the test's queue prefix, then disconnects. */
  async dropAndClose(): Promise<void> {
    await this.queue.close();
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.config.queuePrefix}:*`, 'COUNT', 500);
      if (keys.length) await this.redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await this.redis.quit();
  }
}
