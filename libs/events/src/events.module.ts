import { Module } from '@nestjs/common';
import { MailEventsPublisher } from './mail-events.publisher';

@Module({ providers: [MailEventsPublisher], exports: [MailEventsPublisher] })
export class EventsModule {}
