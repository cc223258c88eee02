import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { answersByKey } from '@app/batching';
import { LeaseFence, leaseHeldSql } from '@app/cluster';
import { SqlRunner } from '@app/events';
import { ConnectionState } from '@app/persistence';
import { StatusChange, StatusWriteOutcome } from './status-change';
import { StatusRow, StatusSnapshot, statusSnapshotOf } from './status-snapshot';

/**
 * A mailbox's connection state as every list and count shows it, over `mailboxes m LEFT JOIN mailbox_status s`:
 * a disabled mailbox is `disabled` whatever its row says, one without a row yet is `pending`
 * (effectiveConnectionState is the same rule for a row already read).
 */
export const EFFECTIVE_CONNECTION_STATE_SQL = `CASE WHEN m.enabled THEN coalesce(s.connection_state::text, 'pending') ELSE 'disabled' END`;

export function effectiveConnectionState(enabled: boolean, stored: ConnectionState | null | undefined): ConnectionState {
  return enabled ? (stored ?? 'pending') : 'disabled';
}

/** The columns of a batch of changes, as the arrays the statements `unnest`. */
function changeColumns(changes: StatusChange[]) {
  const column = <T>(pick: (c: StatusChange) => T) => changes.map(pick);
  return {
    mailboxId: column((c) => c.mailboxId),
    next: column((c) => c.next),
    at: column((c) => c.at),
    ownerId: column((c) => c.ownerId),
    version: column((c) => c.version),
    // The event goes in as json text: the outbox keeps it exactly as built.
    event: column((c) => (c.event ? JSON.stringify(c.event) : null)),
    fenceOwner: column((c) => c.fence?.owner ?? null),
    fenceEpoch: column((c) => c.fence?.epoch ?? null),
  };
}

/** Whether a change (a row of `v`) may be written: the API's are not fenced, a listener's only while its lease holds. */
const FENCE_HOLDS = `(v.fence_owner IS NULL OR ${leaseHeldSql('v.mailbox_id', 'v.fence_owner', 'v.fence_epoch')})`;

/**
 * The end of both writes (update, insert): the events of the rows written go to the outbox in the same
 * statement, in the order of the changes, and each change is answered written or fenced.
 */
const QUEUE_EVENTS_OF_WRITTEN = `queued AS (
         INSERT INTO event_outbox (event_id, type, payload)
         SELECT v.event->>'id', v.event->>'type', v.event FROM v JOIN written w ON w.mailbox_id = v.mailbox_id WHERE v.event IS NOT NULL ORDER BY v.ord
         ON CONFLICT (event_id) DO NOTHING
       )
       SELECT mailbox_id, 'written' AS outcome FROM written UNION ALL SELECT mailbox_id, 'fenced' FROM v WHERE NOT v.held`;

/**
 * Per change, in order: written (its row came back from the write), fenced (its lease no longer holds),
 * else moved on. Two changes of one mailbox never share a statement (the writer batches by mailbox).
 */
function outcomesOf(changes: StatusChange[], rows: { mailbox_id: string; outcome: 'written' | 'fenced' }[]): StatusWriteOutcome[] {
  const byMailbox = new Map(rows.map((row) => [row.mailbox_id, row.outcome]));
  return changes.map((change) => byMailbox.get(change.mailboxId) ?? 'moved_on');
}

/**
 * All SQL of `mailbox_status`. A state change and its `mailbox.state_changed` event are written by one
 * statement (the event into `event_outbox`, see libs/events' EventOutboxRelay), so they commit together
 * or not at all, and a batch of thousands of changes is still one statement. Used only through
 * MailboxStatusWriter (the one writer of the connection state) and the listener's reporter (reads,
 * delivery times).
 */
@Injectable()
export class MailboxStatusRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async load(mailboxIds: string[]): Promise<StatusSnapshot[]> {
    const rows: (StatusRow & { mailbox_id: string })[] = await this.dataSource.query(
      `SELECT mailbox_id, connection_state, state_version, last_error_code, owner_id FROM mailbox_status WHERE mailbox_id = ANY($1::uuid[])`,
      [mailboxIds],
    );
    return answersByKey(mailboxIds, rows, (row) => row.mailbox_id, statusSnapshotOf);
  }

  /** The row, locked until the caller's transaction ends (FOR UPDATE): the API's enable/disable. */
  async lock(sql: SqlRunner, mailboxId: string): Promise<StatusSnapshot> {
    const [row]: StatusRow[] = await sql.query(
      `SELECT connection_state, state_version, last_error_code, owner_id FROM mailbox_status WHERE mailbox_id = $1 FOR UPDATE`,
      [mailboxId],
    );
    return statusSnapshotOf(row);
  }

  /**
   * Conditional UPDATEs of existing rows and the events of those applied, one statement: a row changes
   * only if it still has the version and state the change was based on (`from`), and, for a listener's
   * change, only while its lease holds (checked in the same statement). Answers, per change, whether it
   * was written, refused because the row moved on, or refused by the lease fence.
   */
  async update(changes: StatusChange[], sql: SqlRunner = this.dataSource): Promise<StatusWriteOutcome[]> {
    const c = changeColumns(changes);
    const rows: { mailbox_id: string; outcome: 'written' | 'fenced' }[] = await sql.query(
      `WITH v AS (
         SELECT v.*, ${FENCE_HOLDS} AS held
           FROM unnest($1::uuid[], $2::text[], $3::boolean[], $4::timestamptz[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[],
                       $10::text[], $11::bigint[], $12::text[], $13::json[], $14::text[], $15::bigint[])
             WITH ORDINALITY AS v(mailbox_id, next, changed, at, owner_id, version, error_mode, error_code, error_message, auth_mode, expected_version, expected_state, event,
                                  fence_owner, fence_epoch, ord)
       ), written AS (
         UPDATE mailbox_status s SET
           connection_state = v.next::connection_state,
           state_since = CASE WHEN v.changed THEN v.at ELSE s.state_since END,
           owner_id = v.owner_id, state_version = v.version,
           last_error_code = CASE v.error_mode WHEN 'set' THEN v.error_code WHEN 'clear' THEN NULL ELSE s.last_error_code END,
           last_error_message = CASE v.error_mode WHEN 'set' THEN v.error_message WHEN 'clear' THEN NULL ELSE s.last_error_message END,
           last_error_at = CASE v.error_mode WHEN 'set' THEN v.at WHEN 'clear' THEN NULL ELSE s.last_error_at END,
           auth_failing_since = CASE v.auth_mode WHEN 'clear' THEN NULL WHEN 'start' THEN coalesce(s.auth_failing_since, v.at) ELSE s.auth_failing_since END
         FROM v
         WHERE s.mailbox_id = v.mailbox_id AND s.state_version = v.expected_version AND s.connection_state = v.expected_state::connection_state AND v.held
         RETURNING s.mailbox_id
       ), ${QUEUE_EVENTS_OF_WRITTEN}`,
      [
        c.mailboxId,
        c.next,
        changes.map((x) => x.next !== x.from.state),
        c.at,
        c.ownerId,
        c.version,
        changes.map((x) => x.errorMode),
        changes.map((x) => x.reason?.code ?? null),
        changes.map((x) => x.reason?.message ?? null),
        changes.map((x) => x.authMode),
        changes.map((x) => x.from.version),
        changes.map((x) => x.from.state),
        c.event,
        c.fenceOwner,
        c.fenceEpoch,
      ],
    );
    return outcomesOf(changes, rows);
  }

  /**
   * The first row of mailboxes that have none yet (bulk-imported), with the events of those created, one
   * statement; a row someone else just created wins (the change is answered `moved_on` and re-read); a
   * listener's change whose lease no longer holds is `fenced`.
   */
  async insert(changes: StatusChange[], sql: SqlRunner = this.dataSource): Promise<StatusWriteOutcome[]> {
    const c = changeColumns(changes);
    const rows: { mailbox_id: string; outcome: 'written' | 'fenced' }[] = await sql.query(
      `WITH v AS (
         SELECT v.*, ${FENCE_HOLDS} AS held
           FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::boolean[], $9::json[], $10::text[], $11::bigint[])
             WITH ORDINALITY AS v(mailbox_id, next, at, owner_id, version, error_code, error_message, auth_start, event, fence_owner, fence_epoch, ord)
       ), written AS (
         INSERT INTO mailbox_status (mailbox_id, connection_state, state_since, owner_id, state_version, last_error_code, last_error_message, last_error_at, auth_failing_since)
         SELECT v.mailbox_id, v.next::connection_state, v.at, v.owner_id, v.version, v.error_code, v.error_message,
           CASE WHEN v.error_code IS NULL THEN NULL ELSE v.at END, CASE WHEN v.auth_start THEN v.at END
         FROM v WHERE v.held
         ON CONFLICT (mailbox_id) DO NOTHING RETURNING mailbox_id
       ), ${QUEUE_EVENTS_OF_WRITTEN}`,
      [
        c.mailboxId,
        c.next,
        c.at,
        c.ownerId,
        c.version,
        changes.map((x) => (x.errorMode === 'set' ? x.reason!.code : null)),
        changes.map((x) => (x.errorMode === 'set' ? x.reason!.message : null)),
        changes.map((x) => x.authMode === 'start'),
        c.event,
        c.fenceOwner,
        c.fenceEpoch,
      ],
    );
    return outcomesOf(changes, rows);
  }

  /** A new mailbox's row, at version 0: `pending` (waiting for a listener) or `disabled`. */
  async create(sql: SqlRunner, mailboxId: string, state: Extract<ConnectionState, 'pending' | 'disabled'>, at: Date): Promise<void> {
    await sql.query(`INSERT INTO mailbox_status (mailbox_id, connection_state, state_since) VALUES ($1, $2::connection_state, $3)`, [mailboxId, state, at]);
  }

  /** Asks the owning listener to reconnect and catch up; not a state change (the version stays). */
  async requestResync(mailboxId: string, at: Date): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO mailbox_status (mailbox_id, connection_state, state_since, resync_requested_at) VALUES ($1, 'pending', $2, $2)
       ON CONFLICT (mailbox_id) DO UPDATE SET resync_requested_at = $2`,
      [mailboxId, at],
    );
  }

  /**
   * After deliveries: when each mailbox's last event went out and how late it was (one statement for a
   * batch). Bookkeeping under the writer's lease: a replica that lost the mailbox writes nothing, silently
   * (its cursor write, which matters, is refused loudly).
   */
  async recordDeliveries(deliveries: { mailboxId: string; at: Date; lagSeconds: number | null; lease: LeaseFence }[]): Promise<void> {
    await this.dataSource.query(
      `UPDATE mailbox_status s SET last_event_at = v.at, last_lag_seconds = COALESCE(v.lag, s.last_lag_seconds)
       FROM unnest($1::uuid[], $2::timestamptz[], $3::float8[], $4::text[], $5::bigint[]) AS v(mailbox_id, at, lag, owner, epoch)
       WHERE s.mailbox_id = v.mailbox_id AND ${leaseHeldSql('s.mailbox_id', 'v.owner', 'v.epoch')}`,
      [deliveries.map((d) => d.mailboxId), deliveries.map((d) => d.at), deliveries.map((d) => d.lagSeconds), deliveries.map((d) => d.lease.owner), deliveries.map((d) => d.lease.epoch)],
    );
  }

  async connectionState(mailboxId: string): Promise<ConnectionState | null> {
    const [row]: { connection_state: ConnectionState }[] = await this.dataSource.query(`SELECT connection_state FROM mailbox_status WHERE mailbox_id = $1`, [mailboxId]);
    return row?.connection_state ?? null;
  }

  async authFailingSince(mailboxId: string): Promise<Date | null> {
    const [row]: { auth_failing_since: Date | null }[] = await this.dataSource.query(`SELECT auth_failing_since FROM mailbox_status WHERE mailbox_id = $1`, [mailboxId]);
    return row?.auth_failing_since ?? null;
  }
}
