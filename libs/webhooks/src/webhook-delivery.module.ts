import { DynamicModule, Module } from '@nestjs/common';
import { getFlowProducerToken } from '@nestjs/bullmq';
import { FlowProducer } from 'bullmq';
import Redis from 'ioredis';
import { Clock, CLOCK, systemClock } from '@app/clock';
import { APP_CONFIG, AppConfig } from '@app/config';
import { MAIL_EVENTS_QUEUE } from '@app/events';
import { GRAPH_NOTIFICATIONS_QUEUE } from '@app/graph';
import { OutboundModule, OutboundPolicy } from '@app/outbound';
import { QueuesModule, registerFlowProducer, registerQueues } from '@app/queues';
import { REDIS } from '@app/redis';
import { DeliveryLog } from './delivery/delivery-log';
import { WEBHOOK_SENDER, WebhookDeliveryProcessor } from './delivery/webhook-delivery.processor';
import { WebhookDeliveryWorkers } from './delivery/webhook-delivery.workers';
import { WebhookFanoutWorker } from './delivery/webhook-fanout.worker';
import { WebhookSender } from './delivery/webhook-sender';
import { WebhookMetrics } from './delivery/webhook.metrics';
import { WEBHOOK_DELIVERIES_FLOW, WEBHOOK_FANOUT_QUEUE, WebhookQueues } from './webhook-queues';
import { WebhooksRepository } from './webhooks.repository';

/**
 * Webhook delivery, for any app to host. The listener hosts it (WEBHOOK_DELIVERY=on by default): listeners
 * are the service's scalable worker processes, they already run under `npm start`, docker compose and the
 * Kubernetes Deployment, and the API stays an HTTP front answering in milliseconds (Graph's receiver must
 * answer within 3 s). WEBHOOK_DELIVERY=off leaves a process out (e.g. to run deliveries on dedicated replicas).
 */
@Module({})
export class WebhookDeliveryModule {
  static forRoot(config: AppConfig, options: { clock?: Clock } = {}): DynamicModule {
    if (!config.webhooks.delivery) return { module: WebhookDeliveryModule };
    return {
      module: WebhookDeliveryModule,
      imports: [
        OutboundModule,
        QueuesModule,
        registerQueues(MAIL_EVENTS_QUEUE, WEBHOOK_FANOUT_QUEUE, GRAPH_NOTIFICATIONS_QUEUE),
        registerFlowProducer(WEBHOOK_DELIVERIES_FLOW),
      ],
      providers: [
        { provide: CLOCK, useValue: options.clock ?? systemClock },
        { provide: WEBHOOK_SENDER, inject: [OutboundPolicy, APP_CONFIG], useFactory: (policy: OutboundPolicy, app: AppConfig) => new WebhookSender(policy, app.webhooks.timeoutMs) },
        {
          provide: WebhookQueues,
          inject: [REDIS, getFlowProducerToken(WEBHOOK_DELIVERIES_FLOW), APP_CONFIG],
          useFactory: (redis: Redis, flows: FlowProducer, app: AppConfig) => new WebhookQueues(redis, flows, app.queuePrefix),
        },
        WebhooksRepository,
        DeliveryLog,
        WebhookMetrics,
        WebhookDeliveryProcessor,
        WebhookFanoutWorker,
        WebhookDeliveryWorkers,
      ],
      exports: [WebhookDeliveryWorkers],
    };
  }
}
