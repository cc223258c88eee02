import { Injectable, Logger } from '@nestjs/common';
import { flightBatcher, SETUP_BATCH_INTERVAL_MS } from '@app/batching';
import { EventOutbox, MailboxRef, SqlRunner } from '@app/events';
import { ConnectionState } from '@app/persistence';
import { ConnectionEvent } from './connection-state';
import { MailboxStatusRepository } from './mailbox-status.repository';
import { planStatusChange, StatusChange, StatusWriteOutcome } from './status-change';

/**
 * The one writer of a mailbox's connection state and its `mailbox.state_changed` events: the listener
 * (through its MailboxStateReporter) and the API (enable/disable) both move the row through the one
 * transition table (`planStatusChange`), both move its version, and both write the event into the outbox
 * with the row, so every change is published once under the id its version keys, whoever made it.
 */
@Injectable()
export class MailboxStatusWriter {
  private readonly logger = new Logger('MailboxState');
  /** The listener's changes made while the previous statement ran or in the setup pause after it (SETUP_BATCH_INTERVAL_MS), as one statement (3,000 runners released together, or connecting over many turns, are a handful). */
  private readonly updateRow = flightBatcher<StatusChange, StatusWriteOutcome>({ key: (c) => c.mailboxId, minIntervalMs: SETUP_BATCH_INTERVAL_MS, run: (changes) => this.written(this.repository.update(changes)) });
  private readonly insertRow = flightBatcher<StatusChange, StatusWriteOutcome>({ key: (c) => c.mailboxId, minIntervalMs: SETUP_BATCH_INTERVAL_MS, run: (changes) => this.written(this.repository.insert(changes)) });

  constructor(
    private readonly repository: MailboxStatusRepository,
    private readonly outbox: EventOutbox,
  ) {}

  /**
   * Writes a planned change unless the row moved on since the snapshot it is based on (optimistic, no
   * lock, batched with the changes made while the previous statement ran or in the setup pause after it) or, for a listener's change, its lease (`change.fence`) no longer holds the
   * mailbox. `moved_on`: the caller re-reads the row and plans again; `fenced`: it stops writing.
   */
  async apply(change: StatusChange): Promise<StatusWriteOutcome> {
    const outcome = await (change.from.exists ? this.updateRow(change) : this.insertRow(change));
    if (outcome === 'written') this.logStateChange(change);
    return outcome;
  }

  /**
   * The API's enable/disable, inside the caller's transaction: the row is locked, the event applied
   * through the transition table and written with its event. Call `committed()` once the transaction has
   * committed, so the event goes out at once (otherwise the relay's sweep publishes it within seconds).
   * Returns the state the row is in afterwards (unchanged when the event does not apply there).
   */
  async applyLocked(sql: SqlRunner, mailbox: MailboxRef, event: ConnectionEvent, at: Date): Promise<ConnectionState> {
    const current = await this.repository.lock(sql, mailbox.id);
    const plan = planStatusChange(mailbox, current, event, null, null, at);
    if (plan.kind !== 'change') return plan.state;
    const [outcome] = current.exists ? await this.repository.update([plan.change], sql) : await this.repository.insert([plan.change], sql);
    // The row is locked: nobody can have moved it between the read and the write (and no lease fences the API).
    if (outcome !== 'written') throw new Error(`Mailbox ${mailbox.id}: the locked status row changed under its lock`);
    this.logStateChange(plan.change);
    return plan.change.next;
  }

  /** A new mailbox's first row (version 0, no event: nothing changed yet). */
  create(sql: SqlRunner, mailboxId: string, enabled: boolean, at: Date): Promise<void> {
    return this.repository.create(sql, mailboxId, enabled ? 'pending' : 'disabled', at);
  }

  /** The transaction that called `applyLocked` committed: publish its event now. */
  committed(): void {
    this.outbox.committed();
  }

  /**
   * One line per connection state change, whoever wrote it, with why: the reason's code and message when
   * it has one (a failure), else the report or action that caused it (start, listening, release, disable…).
   * Changes of owner or error alone, with the state unchanged, are not state changes.
   */
  private logStateChange(change: StatusChange): void {
    if (change.next === change.from.state) return;
    const reason = change.reason?.code ?? change.cause;
    const fields = { mailboxId: change.mailboxId, from: change.from.state, to: change.next, reason, ...(change.reason ? { reasonMessage: change.reason.message } : {}), owner: change.ownerId };
    const line = `Connection state ${change.from.state} → ${change.next} (${change.reason ? `${change.reason.code}: ${change.reason.message}` : change.cause})`;
    if (change.next === 'backoff' || change.next === 'auth_error') this.logger.warn(fields, line);
    else this.logger.log(fields, line);
  }

  private async written(statement: Promise<StatusWriteOutcome[]>): Promise<StatusWriteOutcome[]> {
    const answers = await statement;
    // Autocommitted with their events: wake the relay (a no-op when nothing was queued but cheap).
    if (answers.includes('written')) this.outbox.committed();
    return answers;
  }
}
