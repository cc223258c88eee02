import { Injectable } from '@nestjs/common';
import { MailEvent } from '../mail-event.types';
import { SqlRunner } from '../sql-runner';
import { EventOutboxRelay } from './event-outbox.relay';
import { EventOutboxRepository } from './event-outbox.repository';

/**
 * What a writer of events sees of the outbox: add events in the transaction that makes the change they
 * report, then say `committed()` so the relay publishes them at once.
 */
@Injectable()
export class EventOutbox {
  constructor(
    private readonly repository: EventOutboxRepository,
    private readonly relay: EventOutboxRelay,
  ) {}

  /** Writes the events inside the caller's transaction: they are published only if it commits. */
  add(sql: SqlRunner, events: MailEvent[]): Promise<void> {
    return this.repository.add(sql, events);
  }

  /** A transaction that added events committed: publish them now (otherwise the next sweep does). */
  committed(): void {
    this.relay.wake();
  }
}
