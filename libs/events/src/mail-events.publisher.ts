import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { turnBatcher } from '@app/batching';
import { REDIS } from '@app/redis';
import { MAIL_EVENTS_QUEUE, MailEvent } from './mail-event.types';

/** Completed jobs are kept this long so a replayed publish of the same id is dropped (dedup window). */
const KEEP_COMPLETED_SECONDS = 7 * 24 * 3600;

@Injectable()
export class MailEventsPublisher implements OnApplicationShutdown {
  private readonly queue: Queue;
  /** Single publishes of one event-loop turn (3,000 mailboxes changing state together) share one round trip. */
  private readonly publishOne = turnBatcher<MailEvent, void>({
    key: (event) => event.id,
    run: async (events) => {
      await this.publishMany(events);
      return events.map(() => undefined);
    },
  });

  constructor(@Inject(REDIS) redis: Redis, @Inject(APP_CONFIG) config: AppConfig) {
    this.queue = new Queue(MAIL_EVENTS_QUEUE, { connection: redis, prefix: config.queuePrefix });
    // Connection errors are the shared connection's, reported once per outage by RedisModule; without a
    // listener BullMQ would print each reconnect attempt to the console.
    this.queue.on('error', () => undefined);
  }

  /** Adds the event as a job named by its type with its id as job id; a second add of the same id is a no-op. */
  publish(event: MailEvent): Promise<void> {
    return this.publishOne(event);
  }

  /** Several events in one round trip (a burst of new mail); each keeps its own id. */
  async publishMany(events: MailEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.queue.addBulk(
      events.map((event) => ({
        name: event.type,
        data: event,
        opts: { jobId: event.id, removeOnComplete: { age: KEEP_COMPLETED_SECONDS }, removeOnFail: { age: 4 * KEEP_COMPLETED_SECONDS } },
      })),
    );
  }

  /**
   * Closes the queue last among the event modules' users: after the listener's runners stopped and the
   * outbox relay published its last round (their modules import this one, so their hooks run first).
   */
  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}
