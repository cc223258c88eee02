import { DynamicModule, Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { REDIS } from '@app/redis';
import { BoundedFlowProducer, BoundedQueue, BoundedWorker } from './bounded-bullmq';

// What @nestjs/bullmq instantiates (its hooks for BullMQ Pro's classes): ours close within a bound (see
// bounded-bullmq.ts). Set when this file loads, so before any registration below builds its providers.
BullModule.queueClass = BoundedQueue;
BullModule.workerClass = BoundedWorker;
BullModule.flowProducerClass = BoundedFlowProducer;

/**
 * BullMQ under Nest (@nestjs/bullmq): every queue, flow producer and @Processor worker a module declares
 * uses the shared REDIS connection (workers duplicate it for their blocking reads, as BullMQ does) and
 * QUEUE_PREFIX. Global once imported; modules import it next to their registrations (registerQueues,
 * registerFlowProducer), so each stays usable on its own.
 */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [REDIS, APP_CONFIG],
      useFactory: (redis: Redis, config: AppConfig) => ({ connection: redis, prefix: config.queuePrefix }),
    }),
  ],
})
export class QueuesModule {}

/** Queues a module injects (@InjectQueue(name)), each closed (bounded) by Nest at shutdown. */
export function registerQueues(...names: string[]): DynamicModule {
  return BullModule.registerQueue(...names.map((name) => ({ name })));
}

/**
 * A flow producer a module injects (@InjectFlowProducer(name)). Not force-disconnected after its close:
 * @nestjs/bullmq would disconnect the connection it was given, and that is the shared REDIS other modules
 * still use while they shut down (RedisModule closes it last).
 */
export function registerFlowProducer(name: string): DynamicModule {
  return BullModule.registerFlowProducer({ name, forceDisconnectOnShutdown: false });
}
