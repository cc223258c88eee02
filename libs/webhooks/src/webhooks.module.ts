import { DynamicModule, Module } from '@nestjs/common';
import { Clock, CLOCK, systemClock } from '@app/clock';
import { OutboundModule } from '@app/outbound';
import { QueuesModule, registerFlowProducer } from '@app/queues';
import { WEBHOOK_DELIVERIES_FLOW } from './webhook-queues';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

/** Webhook endpoints as the API manages them (delivery runs in WebhookDeliveryModule). */
@Module({})
export class WebhooksModule {
  static forRoot(options: { clock?: Clock } = {}): DynamicModule {
    return {
      module: WebhooksModule,
      imports: [OutboundModule, QueuesModule, registerFlowProducer(WEBHOOK_DELIVERIES_FLOW)],
      providers: [{ provide: CLOCK, useValue: options.clock ?? systemClock }, WebhooksRepository, WebhooksService],
      exports: [WebhooksService],
    };
  }
}
