import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EFFECTIVE_CONNECTION_STATE_SQL } from '@app/mailbox-state';

/** All SQL behind the fleet-wide sync gauges, read at scrape time. */
@Injectable()
export class SyncMetricsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Mailboxes by connection state: a disabled mailbox counts as `disabled`, one without a status row as `pending`. */
  mailboxesByState(): Promise<{ state: string; n: number }[]> {
    return this.dataSource.query(
      `SELECT ${EFFECTIVE_CONNECTION_STATE_SQL} AS state, count(*)::int AS n
       FROM mailboxes m LEFT JOIN mailbox_status s ON s.mailbox_id = m.id GROUP BY 1`,
    );
  }

  /**
   * When the enabled mailbox least recently known in sync was last in sync (null when all are connected).
   * A connected mailbox is in sync by definition (IDLE); the others since their last catch-up or creation.
   */
  async oldestUnsyncedAt(): Promise<Date | null> {
    const [row]: { oldest: Date | null }[] = await this.dataSource.query(
      `SELECT min(coalesce(c.last_synced_at, m.created_at)) AS oldest
       FROM mailboxes m LEFT JOIN mailbox_status s ON s.mailbox_id = m.id LEFT JOIN sync_cursors c ON c.mailbox_id = m.id
       WHERE m.enabled AND coalesce(s.connection_state::text, 'pending') <> 'connected'`,
    );
    return row?.oldest ?? null;
  }
}
