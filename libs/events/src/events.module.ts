import { Module } from '@nestjs/common';
import { MailEventsPublisher } from './mail-events.publisher';
import { EventOutboxRepository } from './outbox/event-outbox.repository';

@Module({ providers: [MailEventsPublisher, EventOutboxRepository], exports: [MailEventsPublisher, EventOutboxRepository] })
export class EventsModule {}
