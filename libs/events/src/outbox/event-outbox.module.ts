import { Module } from '@nestjs/common';
import { EventsModule } from '../events.module';
import { EventOutbox } from './event-outbox';
import { EventOutboxRelay } from './event-outbox.relay';

/**
 * The outbox and its relay. A module of its own that imports EventsModule, so at shutdown its relay
 * (the importer's hooks run first) publishes its last events before the publisher closes its queue, and
 * after the modules that import it (the listener's supervisor releasing its mailboxes) wrote theirs.
 */
@Module({ imports: [EventsModule], providers: [EventOutboxRelay, EventOutbox], exports: [EventOutbox, EventOutboxRelay] })
export class EventOutboxModule {}
