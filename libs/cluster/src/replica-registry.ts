import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { ReplicaState } from './replica-state';

export interface ReplicaHeartbeatRow {
  id: string;
  state: ReplicaState;
  startedAt: Date;
  heartbeatAt: Date;
  /** Milliseconds since the last beat, by the database's clock: replicas' and API's clocks may differ. */
  silentMs: number;
}

/**
 * All SQL about listener replicas. Each replica writes only its own row; anyone reads. Every instant is
 * the database's `now()`, so a replica whose clock runs ahead or behind is still judged fairly.
 */
@Injectable()
export class ReplicaRegistry {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** (Re)starts a replica's row: a restarted process with the same LISTENER_ID starts afresh. */
  async register(id: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO listener_replicas (id, state, started_at, heartbeat_at) VALUES ($1, 'live', now(), now())
       ON CONFLICT (id) DO UPDATE SET state = 'live', started_at = EXCLUDED.started_at, heartbeat_at = EXCLUDED.heartbeat_at`,
      [id],
    );
  }

  /** One write per replica per beat, whatever the number of mailboxes it holds. */
  async beat(id: string): Promise<void> {
    await this.dataSource.query(`UPDATE listener_replicas SET heartbeat_at = now() WHERE id = $1`, [id]);
  }

  /** Replicas heard from within the lease time, with their state: the ones mailboxes may be assigned to are `live`. */
  async liveMembers(leaseTtlMs: number): Promise<Array<{ id: string; state: ReplicaState }>> {
    return (await this.dataSource.query(
      `SELECT id, state FROM listener_replicas WHERE heartbeat_at >= now() - $1 * interval '1 millisecond' ORDER BY id`,
      [leaseTtlMs],
    )) as Array<{ id: string; state: ReplicaState }>;
  }

  /** SIGTERM: from now on the others leave this replica out of the assignment and ask for its mailboxes. */
  async markDraining(id: string): Promise<void> {
    await this.dataSource.query(`UPDATE listener_replicas SET state = 'draining', heartbeat_at = now() WHERE id = $1`, [id]);
  }

  /** Rows of replicas gone for long: a stopped replica keeps its row until then, for the record. */
  async forgetSilentFor(ms: number): Promise<void> {
    await this.dataSource.query(`DELETE FROM listener_replicas WHERE heartbeat_at < now() - $1 * interval '1 millisecond'`, [ms]);
  }

  async find(ids: string[]): Promise<Map<string, ReplicaHeartbeatRow>> {
    if (ids.length === 0) return new Map();
    const rows = (await this.dataSource.query(
      `SELECT id, state, started_at, heartbeat_at, extract(epoch FROM now() - heartbeat_at) * 1000 AS silent_ms
         FROM listener_replicas WHERE id = ANY($1::text[])`,
      [ids],
    )) as Array<{ id: string; state: ReplicaState; started_at: Date; heartbeat_at: Date; silent_ms: string | number }>;
    return new Map(
      rows.map((row) => [row.id, { id: row.id, state: row.state, startedAt: row.started_at, heartbeatAt: row.heartbeat_at, silentMs: Number(row.silent_ms) }]),
    );
  }
}
