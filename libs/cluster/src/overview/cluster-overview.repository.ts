import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { ReplicaState } from '../replica-state';

export interface LiveReplicaRow {
  id: string;
  state: ReplicaState;
  startedAt: Date;
  heartbeatAt: Date;
  /** Enabled mailboxes this replica holds. */
  mailboxes: number;
}

export interface ClusterOverviewRow {
  /** Replicas heard from within the lease time, by id; dead ones are left out. */
  replicas: LiveReplicaRow[];
  /** Enabled mailboxes. */
  total: number;
}

/**
 * Who holds which enabled mailbox: rows of (mailbox_id, owner_id), from the leases (a replica runs exactly
 * the mailboxes it holds the lease of). A dead holder's leases still name it until someone takes them:
 * the outer query counts only live replicas' holdings, so those mailboxes count as unowned meanwhile.
 */
const HOLDERS_OF_ENABLED_MAILBOXES = `
  SELECT l.mailbox_id, l.owner_id FROM mailbox_leases l JOIN mailboxes m ON m.id = l.mailbox_id
   WHERE m.enabled AND l.owner_id IS NOT NULL`;

/**
 * All SQL of the cluster overview. One statement, so the counts come from one snapshot (owned never
 * exceeds total). Liveness is judged by the database's clock, as everywhere: alive while silent for at
 * most the lease time (isReplicaAlive).
 */
@Injectable()
export class ClusterOverviewRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async overview(leaseTtlMs: number): Promise<ClusterOverviewRow> {
    const rows = (await this.dataSource.query(
      `WITH live AS (
         SELECT id, state, started_at, heartbeat_at FROM listener_replicas
          WHERE heartbeat_at >= now() - $1 * interval '1 millisecond'
       ), holders AS (${HOLDERS_OF_ENABLED_MAILBOXES}
       ), held AS (
         SELECT live.id, live.state, live.started_at, live.heartbeat_at, count(holders.mailbox_id)::int AS mailboxes
           FROM live LEFT JOIN holders ON holders.owner_id = live.id
          GROUP BY live.id, live.state, live.started_at, live.heartbeat_at
       )
       SELECT totals.total, held.id, held.state, held.started_at, held.heartbeat_at, held.mailboxes
         FROM (SELECT count(*)::int AS total FROM mailboxes WHERE enabled) totals
         LEFT JOIN held ON true
        ORDER BY held.id`,
      [leaseTtlMs],
    )) as Array<{ total: number } & (ReplicaQueryRow | { id: null })>;
    return {
      total: rows[0]?.total ?? 0,
      replicas: rows.flatMap((row) => (row.id === null ? [] : [liveReplicaOf(row as ReplicaQueryRow)])),
    };
  }

  /**
   * One live replica and what it holds (null: unknown, or silent for longer than the lease time). A
   * mailbox's console page asks this every 2 s while open: it counts that replica's leases only (by
   * ix_mailbox_leases_owner) instead of every lease and mailbox as `overview` does.
   */
  async replica(id: string, leaseTtlMs: number): Promise<LiveReplicaRow | null> {
    const [row] = (await this.dataSource.query(
      `SELECT r.id, r.state, r.started_at, r.heartbeat_at,
              (SELECT count(*)::int FROM (${HOLDERS_OF_ENABLED_MAILBOXES} AND l.owner_id = r.id) holders) AS mailboxes
         FROM listener_replicas r
        WHERE r.id = $1 AND r.heartbeat_at >= now() - $2 * interval '1 millisecond'`,
      [id, leaseTtlMs],
    )) as ReplicaQueryRow[];
    return row ? liveReplicaOf(row) : null;
  }
}

interface ReplicaQueryRow {
  id: string;
  state: ReplicaState;
  started_at: Date;
  heartbeat_at: Date;
  mailboxes: number;
}

const liveReplicaOf = (row: ReplicaQueryRow): LiveReplicaRow => ({ id: row.id, state: row.state, startedAt: row.started_at, heartbeatAt: row.heartbeat_at, mailboxes: row.mailboxes });
