import { Module } from '@nestjs/common';
import { QueuesModule, registerFlowProducer } from '@app/queues';
import { MAIL_EVENTS_FLOW, MailEventsPublisher } from './mail-events.publisher';
import { EventOutboxRepository } from './outbox/event-outbox.repository';

@Module({
  imports: [QueuesModule, registerFlowProducer(MAIL_EVENTS_FLOW)],
  providers: [MailEventsPublisher, EventOutboxRepository],
  exports: [MailEventsPublisher, EventOutboxRepository],
})
export class EventsModule {}
