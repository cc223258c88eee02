import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { MailboxRef, MailEventsPublisher } from '@app/events';
import { ConnectionState, MailboxStatusEntity } from '@app/persistence';
import { Clock, CLOCK } from '@app/oauth';
import { ConnectionEvent, nextConnectionState } from './connection-state';
import { mailboxStateChanged } from './mailbox-events';

export interface StateReason {
  code: string;
  message: string;
}

/**
 * Applies connection events to `mailbox_status` (one row lock per change) and publishes
 * `mailbox.state_changed`, keyed by the row's state version so a replayed publish is dropped.
 */
@Injectable()
export class MailboxStateReporter {
  private readonly logger = new Logger(MailboxStateReporter.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: MailEventsPublisher,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Returns the new state (unchanged when the event does not apply to the current one). */
  async apply(mailbox: MailboxRef, event: ConnectionEvent, reason: StateReason | null, owner: string | null): Promise<ConnectionState> {
    const now = new Date(this.clock.now());
    const change = await this.dataSource.transaction(async (manager) => {
      let status = await manager.findOne(MailboxStatusEntity, { where: { mailboxId: mailbox.id }, lock: { mode: 'pessimistic_write' } });
      if (!status) {
        status = manager.create(MailboxStatusEntity, { mailboxId: mailbox.id, connectionState: 'pending', stateSince: now, stateVersion: '0' });
      }
      const previous = status.connectionState;
      let next: ConnectionState;
      try {
        next = nextConnectionState(previous, event);
      } catch {
        this.logger.debug(`Mailbox ${mailbox.id}: ${event} ignored in state ${previous}`);
        return null;
      }
      const sameError = reason?.code === status.lastErrorCode;
      if (next === previous && (reason === null || sameError) && status.ownerId === owner) return null;
      if (next !== previous) status.stateSince = now;
      status.connectionState = next;
      status.ownerId = next === 'pending' || next === 'disabled' ? null : owner;
      if (reason) {
        status.lastErrorCode = reason.code;
        status.lastErrorMessage = reason.message;
        status.lastErrorAt = now;
      } else if (next === 'connected') {
        status.lastErrorCode = null;
        status.lastErrorMessage = null;
        status.lastErrorAt = null;
      }
      if (event === 'auth_rejected') status.authFailingSince ??= now;
      if (next === 'connected') status.authFailingSince = null;
      status.stateVersion = String(Number(status.stateVersion) + 1);
      await manager.save(MailboxStatusEntity, status);
      return { previous, next, version: Number(status.stateVersion) };
    });
    if (!change) return (await this.current(mailbox.id)) ?? 'pending';
    if (change.next !== change.previous) {
      await this.events
        .publish(mailboxStateChanged(mailbox, change.version, change.next, change.previous, reason, now))
        .catch((error: unknown) => this.logger.warn(`Mailbox ${mailbox.id}: publishing state_changed failed: ${String(error)}`));
    }
    return change.next;
  }

  async current(mailboxId: string): Promise<ConnectionState | null> {
    const status = await this.dataSource.getRepository(MailboxStatusEntity).findOneBy({ mailboxId });
    return status?.connectionState ?? null;
  }

  async authFailingSince(mailboxId: string): Promise<Date | null> {
    return (await this.dataSource.getRepository(MailboxStatusEntity).findOneBy({ mailboxId }))?.authFailingSince ?? null;
  }

  /** After a delivery: when the last event went out and how late it was. */
  async recordDelivery(mailboxId: string, at: Date, lagSeconds: number | null): Promise<void> {
    await this.dataSource.query(`UPDATE mailbox_status SET last_event_at = $2, last_lag_seconds = COALESCE($3, last_lag_seconds) WHERE mailbox_id = $1`, [mailboxId, at, lagSeconds]);
  }
}
