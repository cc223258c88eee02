import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** Fleet-wide token figures: read by the token gauges (listener) and the console's overview (API). */
@Injectable()
export class TokenStatsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  countByState(): Promise<{ state: string; n: number }[]> {
    return this.dataSource.query(`SELECT state::text AS state, count(*)::int AS n FROM oauth_tokens GROUP BY state`);
  }

  /** When the soonest-expiring active token of an enabled mailbox (or an app-only token) expires; null when none. */
  async soonestActiveExpiry(): Promise<Date | null> {
    const [row]: { expires_at: Date | null }[] = await this.dataSource.query(
      `SELECT min(t.expires_at) AS expires_at FROM oauth_tokens t LEFT JOIN mailboxes m ON m.id = t.mailbox_id
       WHERE t.state = 'active' AND (t.mailbox_id IS NULL OR m.enabled)`,
    );
    return row?.expires_at ? new Date(row.expires_at) : null;
  }
}
