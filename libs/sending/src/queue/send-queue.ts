import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { closeBullWithin } from '@app/queues';
import { REDIS } from '@app/redis';
import { MAIL_SEND_QUEUE, SendJobData, sendJobOptions } from './mail-send-queue';

/** Adds sends to `mail-send` (the API after storing one; the worker's sweep for any that missed it). */
@Injectable()
export class SendQueue implements OnApplicationShutdown {
  readonly queue: Queue<SendJobData>;

  constructor(@Inject(REDIS) redis: Redis, @Inject(APP_CONFIG) config: AppConfig) {
    this.queue = new Queue<SendJobData>(MAIL_SEND_QUEUE, { connection: redis, prefix: config.queuePrefix });
    this.queue.on('error', () => undefined);
  }

  async add(sendId: string, queuedAt: number): Promise<void> {
    await this.queue.add('send', { sendId, queuedAt }, sendJobOptions(sendId));
  }

  async onApplicationShutdown(): Promise<void> {
    await closeBullWithin(this.queue, 2_000);
  }
}
