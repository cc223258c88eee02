import { Module } from '@nestjs/common';
import { EventOutboxMetrics } from './event-outbox.metrics';
import { EventOutboxRepository } from './event-outbox.repository';

/** The outbox backlog gauges; imported by the API only (see EventOutboxMetrics). */
@Module({ providers: [EventOutboxRepository, EventOutboxMetrics] })
export class EventOutboxMetricsModule {}
