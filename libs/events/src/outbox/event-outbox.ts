import { Injectable } from '@nestjs/common';
import { MailEvent } from '../mail-event.types';
import { SqlRunner } from '../sql-runner';
import { EventOutboxRelay } from './event-outbox.relay';
import { EventOutboxRepository } from './event-outbox.repository';

/**
 * What a writer of events sees of the outbox: add events in the transaction that makes the change they
 * report, then say `committed()` so the relay publishes them at once.
 *
 * Why an outbox rather than publishing first and writing the row after (deterministic ids would make a
 * replay harmless too): publish-first leaves an event for a state the row never reached whenever the
 * write is refused (the API or another replica moved the row on) or the process dies in between, and a
 * CRM shown "connected" for a mailbox that never was is worse than an event a few milliseconds late.
 * Postgres is also where replicas are fenced (an event written with its row is fenced with it by the lease
 * epoch), and webhooks need an event on `mail-events` and in every subscribed endpoint's deliveries
 * together or not at all: both come from the same transaction. State and auth events are not
 * latency-critical; `mail.received` stays a direct publish (the cursor moves only after it succeeded).
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
