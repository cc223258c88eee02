import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { answeredBy, answersByKey, turnBatcher } from '@app/batching';
import { MailboxRef, MailEventsPublisher } from '@app/events';
import { ConnectionState } from '@app/persistence';
import { Clock, CLOCK } from '@app/clock';
import { ConnectionEvent, nextConnectionState } from './connection-state';
import { mailboxStateChanged } from './mailbox-events';

interface StatusRow {
  connection_state: ConnectionState;
  state_version: string;
  last_error_code: string | null;
  owner_id: string | null;
}

type ErrorMode = 'set' | 'clear' | 'keep';
type AuthMode = 'clear' | 'start' | 'keep';

/** One conditional status UPDATE: applied only if the row still has `expectedVersion` and `expectedState`. */
interface StatusUpdate {
  mailboxId: string;
  next: ConnectionState;
  changed: boolean;
  now: Date;
  ownerId: string | null;
  version: number;
  errorMode: ErrorMode;
  reason: StateReason | null;
  authMode: AuthMode;
  expectedVersion: number;
  expectedState: ConnectionState;
}

/** The first status row of a mailbox (created by its first change). */
interface StatusInsert {
  mailboxId: string;
  next: ConnectionState;
  now: Date;
  ownerId: string | null;
  version: number;
  reason: StateReason | null;
  authStart: boolean;
}

/** What this reporter last wrote (or read) of a mailbox's row; a write based on a stale one is refused. */
export interface StatusSnapshot {
  state: ConnectionState;
  version: number;
  lastErrorCode: string | null;
  ownerId: string | null;
  exists: boolean;
}

/** The snapshot of a status row's columns; no row (or a LEFT JOIN that found none) is `pending` at version 0. */
export function statusSnapshotOf(row: { [K in keyof StatusRow]: StatusRow[K] | null } | undefined): StatusSnapshot {
  if (!row?.connection_state) return { state: 'pending', version: 0, lastErrorCode: null, ownerId: null, exists: false };
  return { state: row.connection_state, version: Number(row.state_version), lastErrorCode: row.last_error_code, ownerId: row.owner_id, exists: true };
}

export interface StateReason {
  code: string;
  message: string;
}

/**
 * Applies connection events to `mailbox_status` and publishes `mailbox.state_changed`, keyed by the row's
 * state version so a replayed publish is dropped. It remembers what it last wrote per mailbox, so a
 * change is one conditional UPDATE (optimistic: refused and re-read when the row moved on), not a locked
 * read-modify-write transaction; the UPDATEs (and events) of one event-loop turn go out as one statement
 * (and one Redis round trip): 3,000 runners released together at shutdown are a handful of statements.
 */
@Injectable()
export class MailboxStateReporter {
  private readonly logger = new Logger(MailboxStateReporter.name);
  private readonly known = new Map<string, StatusSnapshot>();
  private readonly load = turnBatcher<string, StatusSnapshot>({ key: (id) => id, run: (ids) => this.loadRows(ids) });
  private readonly updateRow = turnBatcher<StatusUpdate, boolean>({ key: (u) => u.mailboxId, run: (updates) => this.updateRows(updates) });
  private readonly insertRow = turnBatcher<StatusInsert, boolean>({ key: (i) => i.mailboxId, run: (inserts) => this.insertRows(inserts) });
  private readonly recordDeliveryOf = turnBatcher<{ mailboxId: string; at: Date; lagSeconds: number | null }, void>({
    key: (d) => d.mailboxId,
    run: async (deliveries) => {
      await this.dataSource.query(
        `UPDATE mailbox_status s SET last_event_at = v.at, last_lag_seconds = COALESCE(v.lag, s.last_lag_seconds)
         FROM unnest($1::uuid[], $2::timestamptz[], $3::float8[]) AS v(mailbox_id, at, lag) WHERE s.mailbox_id = v.mailbox_id`,
        [deliveries.map((d) => d.mailboxId), deliveries.map((d) => d.at), deliveries.map((d) => d.lagSeconds)],
      );
      return deliveries.map(() => undefined);
    },
  });

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

  private async loadRows(mailboxIds: string[]): Promise<StatusSnapshot[]> {
    const rows: (StatusRow & { mailbox_id: string })[] = await this.dataSource.query(
      `SELECT mailbox_id, connection_state, state_version, last_error_code, owner_id FROM mailbox_status WHERE mailbox_id = ANY($1::uuid[])`,
      [mailboxIds],
    );
    return answersByKey(mailboxIds, rows, (row) => row.mailbox_id, statusSnapshotOf);
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
    const errorMode: ErrorMode = reason ? 'set' : next === 'connected' ? 'clear' : 'keep';
    // auth_failing_since: starts with the first rejection of a run, ends with a successful connection.
    const authMode: AuthMode = next === 'connected' ? 'clear' : event === 'auth_rejected' ? 'start' : 'keep';
    const written = current.exists
      ? await this.updateRow({ mailboxId, next, changed: next !== current.state, now, ownerId, version, errorMode, reason, authMode, expectedVersion: current.version, expectedState: current.state })
      : await this.insertRow({ mailboxId, next, now, ownerId, version, reason: errorMode === 'set' ? reason : null, authStart: authMode === 'start' });
    if (!written) return null;
    return { state: next, version, lastErrorCode: errorMode === 'set' ? reason!.code : errorMode === 'clear' ? null : current.lastErrorCode, ownerId, exists: true };
  }

  /** The conditional UPDATEs of one event-loop turn (thousands of mailboxes connecting together) as one statement. */
  private async updateRows(updates: StatusUpdate[]): Promise<boolean[]> {
    const column = <T>(pick: (u: StatusUpdate) => T) => updates.map(pick);
    const [rows]: [{ mailbox_id: string }[], number] = await this.dataSource.query(
      `UPDATE mailbox_status s SET
         connection_state = v.next::connection_state,
         state_since = CASE WHEN v.changed THEN v.at ELSE s.state_since END,
         owner_id = v.owner_id, state_version = v.version,
         last_error_code = CASE v.error_mode WHEN 'set' THEN v.error_code WHEN 'clear' THEN NULL ELSE s.last_error_code END,
         last_error_message = CASE v.error_mode WHEN 'set' THEN v.error_message WHEN 'clear' THEN NULL ELSE s.last_error_message END,
         last_error_at = CASE v.error_mode WHEN 'set' THEN v.at WHEN 'clear' THEN NULL ELSE s.last_error_at END,
         auth_failing_since = CASE v.auth_mode WHEN 'clear' THEN NULL WHEN 'start' THEN coalesce(s.auth_failing_since, v.at) ELSE s.auth_failing_since END
       FROM unnest($1::uuid[], $2::text[], $3::boolean[], $4::timestamptz[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[], $12::text[])
         AS v(mailbox_id, next, changed, at, owner_id, version, error_mode, error_code, error_message, auth_mode, expected_version, expected_state)
       WHERE s.mailbox_id = v.mailbox_id AND s.state_version = v.expected_version AND s.connection_state = v.expected_state::connection_state
       RETURNING s.mailbox_id`,
      [
        column((u) => u.mailboxId),
        column((u) => u.next),
        column((u) => u.changed),
        column((u) => u.now),
        column((u) => u.ownerId),
        column((u) => u.version),
        column((u) => u.errorMode),
        column((u) => u.reason?.code ?? null),
        column((u) => u.reason?.message ?? null),
        column((u) => u.authMode),
        column((u) => u.expectedVersion),
        column((u) => u.expectedState),
      ],
    );
    return answeredBy(updates, (u) => u.mailboxId, rows.map((row) => row.mailbox_id));
  }

  /** Mailboxes without a status row yet (bulk-imported): the first write creates it, unless someone else just did. */
  private async insertRows(inserts: StatusInsert[]): Promise<boolean[]> {
    const rows: { mailbox_id: string }[] = await this.dataSource.query(
      `INSERT INTO mailbox_status (mailbox_id, connection_state, state_since, owner_id, state_version, last_error_code, last_error_message, last_error_at, auth_failing_since)
       SELECT v.mailbox_id, v.next::connection_state, v.at, v.owner_id, v.version, v.error_code, v.error_message,
         CASE WHEN v.error_code IS NULL THEN NULL ELSE v.at END, CASE WHEN v.auth_start THEN v.at END
       FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::boolean[])
         AS v(mailbox_id, next, at, owner_id, version, error_code, error_message, auth_start)
       ON CONFLICT (mailbox_id) DO NOTHING RETURNING mailbox_id`,
      [
        inserts.map((i) => i.mailboxId),
        inserts.map((i) => i.next),
        inserts.map((i) => i.now),
        inserts.map((i) => i.ownerId),
        inserts.map((i) => i.version),
        inserts.map((i) => i.reason?.code ?? null),
        inserts.map((i) => i.reason?.message ?? null),
        inserts.map((i) => i.authStart),
      ],
    );
    return answeredBy(inserts, (i) => i.mailboxId, rows.map((row) => row.mailbox_id));
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
  recordDelivery(mailboxId: string, at: Date, lagSeconds: number | null): Promise<void> {
    return this.recordDeliveryOf({ mailboxId, at, lagSeconds });
  }
}
