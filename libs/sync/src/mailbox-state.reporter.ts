import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { MailboxRef, MailEventsPublisher } from '@app/events';
import { ConnectionState } from '@app/persistence';
import { Clock, CLOCK } from '@app/oauth';
import { ConnectionEvent, nextConnectionState } from './connection-state';
import { mailboxStateChanged } from './mailbox-events';

interface StatusRow {
  connection_state: ConnectionState;
  state_version: string;
  last_error_code: string | null;
  owner_id: string | null;
}

/** What this reporter last wrote (or read) of a mailbox's row; a write based on a stale one is refused. */
export interface StatusSnapshot {
  state: ConnectionState;
  version: number;
  lastErrorCode: string | null;
  ownerId: string | null;
  exists: boolean;
}

export interface StateReason {
  code: string;
  message: string;
}

/**
 * Applies connection events to `mailbox_status` and publishes `mailbox.state_changed`, keyed by the row's
 * state version so a replayed publish is dropped. It remembers what it last wrote per mailbox, so a
 * change is one conditional UPDATE (optimistic: refused and re-read when the row moved on), not a locked
 * read-modify-write transaction — connecting 3,000 mailboxes costs 3,000 fewer round trips per state.
 */
@Injectable()
export class MailboxStateReporter {
  private readonly logger = new Logger(MailboxStateReporter.name);
  private readonly known = new Map<string, StatusSnapshot>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: MailEventsPublisher,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Returns the new state (unchanged when the event does not apply to the current one). */
  async apply(mailbox: MailboxRef, event: ConnectionEvent, reason: StateReason | null, owner: string | null): Promise<ConnectionState> {
    for (let attempt = 0; ; attempt++) {
      const current = this.known.get(mailbox.id) ?? (await this.load(mailbox.id));
      let next: ConnectionState;
      try {
        next = nextConnectionState(current.state, event);
      } catch {
        this.logger.debug(`Mailbox ${mailbox.id}: ${event} ignored in state ${current.state}`);
        return current.state;
      }
      const sameError = reason?.code === current.lastErrorCode;
      if (next === current.state && (reason === null || sameError) && current.ownerId === owner) return next;
      const now = new Date(this.clock.now());
      const written = await this.write(mailbox.id, current, next, event, reason, owner, now);
      if (!written) {
        // Someone else (the API enabling/disabling it, another replica) changed the row: read it again.
        this.known.delete(mailbox.id);
        if (attempt < 5) continue;
        throw new Error(`Mailbox ${mailbox.id}: status kept changing under us`);
      }
      this.known.set(mailbox.id, written);
      if (next !== current.state) {
        await this.events
          .publish(mailboxStateChanged(mailbox, written.version, next, current.state, reason, now))
          .catch((error: unknown) => this.logger.warn(`Mailbox ${mailbox.id}: publishing state_changed failed: ${String(error)}`));
      }
      return next;
    }
  }

  /** What the row looked like when the supervisor loaded it (a stale snapshot only costs a re-read). */
  seed(mailboxId: string, status: StatusSnapshot): void {
    if (!this.known.has(mailboxId)) this.known.set(mailboxId, status);
  }

  /** Stops remembering a mailbox's row (its runner stopped). */
  forget(mailboxId: string): void {
    this.known.delete(mailboxId);
  }

  private async load(mailboxId: string): Promise<StatusSnapshot> {
    const [row]: StatusRow[] = await this.dataSource.query(
      `SELECT connection_state, state_version, last_error_code, owner_id FROM mailbox_status WHERE mailbox_id = $1`,
      [mailboxId],
    );
    if (!row) return { state: 'pending', version: 0, lastErrorCode: null, ownerId: null, exists: false };
    return { state: row.connection_state, version: Number(row.state_version), lastErrorCode: row.last_error_code, ownerId: row.owner_id, exists: true };
  }

  /**
   * One statement, no transaction: the row changes only if it still is what we based the transition on
   * (same version and state; the API changes the state when a mailbox is enabled or disabled).
   * Returns the new snapshot, or null when the row moved on meanwhile.
   */
  private async write(
    mailboxId: string,
    current: StatusSnapshot,
    next: ConnectionState,
    event: ConnectionEvent,
    reason: StateReason | null,
    owner: string | null,
    now: Date,
  ): Promise<StatusSnapshot | null> {
    const version = current.version + 1;
    const ownerId = next === 'pending' || next === 'disabled' ? null : owner;
    // Error columns: set from the reason; cleared once connected; otherwise kept.
    const errorMode = reason ? 'set' : next === 'connected' ? 'clear' : 'keep';
    // auth_failing_since: starts with the first rejection of a run, ends with a successful connection.
    const authMode = next === 'connected' ? 'clear' : event === 'auth_rejected' ? 'start' : 'keep';
    const params = [mailboxId, next, next !== current.state, now, ownerId, version, errorMode, reason?.code ?? null, reason?.message ?? null, authMode, current.version, current.state];
    const assignments = `
      connection_state = $2::connection_state,
      state_since = CASE WHEN $3 THEN $4::timestamptz ELSE mailbox_status.state_since END,
      owner_id = $5, state_version = $6,
      last_error_code = CASE $7::text WHEN 'set' THEN $8 WHEN 'clear' THEN NULL ELSE mailbox_status.last_error_code END,
      last_error_message = CASE $7::text WHEN 'set' THEN $9 WHEN 'clear' THEN NULL ELSE mailbox_status.last_error_message END,
      last_error_at = CASE $7::text WHEN 'set' THEN $4::timestamptz WHEN 'clear' THEN NULL ELSE mailbox_status.last_error_at END,
      auth_failing_since = CASE $10::text WHEN 'clear' THEN NULL WHEN 'start' THEN coalesce(mailbox_status.auth_failing_since, $4::timestamptz) ELSE mailbox_status.auth_failing_since END`;
    // TypeORM answers an UPDATE with [rows, affected] and an INSERT with the rows.
    const rows: unknown[] = current.exists
      ? (
          await this.dataSource.query(
            `UPDATE mailbox_status SET ${assignments}
             WHERE mailbox_id = $1 AND state_version = $11 AND connection_state = $12::connection_state RETURNING mailbox_id`,
            params,
          )
        )[0]
      : await this.dataSource.query(
          `INSERT INTO mailbox_status (mailbox_id, connection_state, state_since, owner_id, state_version, last_error_code, last_error_message, last_error_at, auth_failing_since)
           VALUES ($1, $2::connection_state, $3::timestamptz, $4, $5, $6::text, $7::text, CASE WHEN $6::text IS NULL THEN NULL ELSE $3::timestamptz END, CASE WHEN $8::boolean THEN $3::timestamptz END)
           ON CONFLICT (mailbox_id) DO NOTHING RETURNING mailbox_id`,
          [mailboxId, next, now, ownerId, version, errorMode === 'set' ? reason!.code : null, errorMode === 'set' ? reason!.message : null, authMode === 'start'],
        );
    if (rows.length === 0) return null;
    return { state: next, version, lastErrorCode: errorMode === 'set' ? reason!.code : errorMode === 'clear' ? null : current.lastErrorCode, ownerId, exists: true };
  }

  async current(mailboxId: string): Promise<ConnectionState | null> {
    const [row]: { connection_state: ConnectionState }[] = await this.dataSource.query(`SELECT connection_state FROM mailbox_status WHERE mailbox_id = $1`, [mailboxId]);
    return row?.connection_state ?? null;
  }

  async authFailingSince(mailboxId: string): Promise<Date | null> {
    const [row]: { auth_failing_since: Date | null }[] = await this.dataSource.query(`SELECT auth_failing_since FROM mailbox_status WHERE mailbox_id = $1`, [mailboxId]);
    return row?.auth_failing_since ?? null;
  }

  /** After a delivery: when the last event went out and how late it was. */
  async recordDelivery(mailboxId: string, at: Date, lagSeconds: number | null): Promise<void> {
    await this.dataSource.query(`UPDATE mailbox_status SET last_event_at = $2, last_lag_seconds = COALESCE($3, last_lag_seconds) WHERE mailbox_id = $1`, [mailboxId, at, lagSeconds]);
  }
}
