import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Counter, Gauge, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { METRIC_PREFIX, METRICS_REGISTRY } from '@app/metrics';
import { TOKEN_STATES } from '@app/persistence';
import { Clock, CLOCK } from '@app/clock';

export type RefreshResult = 'success' | 'transient_failure' | 'permanent_failure' | 'configuration_error';

/**
 * Token health for Prometheus. The two gauges are read from Postgres at scrape time, so every replica
 * reports the same fleet-wide numbers: aggregate them with max(), not sum().
 */
@Injectable()
export class OAuthMetrics {
  readonly refreshes: Counter<'provider' | 'result'>;

  constructor(
    @Inject(METRICS_REGISTRY) registry: Registry,
    @InjectDataSource() dataSource: DataSource,
    @Inject(CLOCK) clock: Clock,
  ) {
    this.refreshes = new Counter({
      name: `${METRIC_PREFIX}token_refreshes_total`,
      help: 'OAuth token refreshes by provider id and result',
      labelNames: ['provider', 'result'],
      registers: [registry],
    });
    new Gauge({
      name: `${METRIC_PREFIX}tokens`,
      help: 'OAuth tokens by state (fleet-wide, from the database)',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        const rows: { state: string; n: number }[] = await dataSource.query(`SELECT state::text AS state, count(*)::int AS n FROM oauth_tokens GROUP BY state`);
        for (const state of TOKEN_STATES) this.set({ state }, rows.find((row) => row.state === state)?.n ?? 0);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}token_soonest_expiry_seconds`,
      help: 'Seconds until the soonest-expiring active token of an enabled mailbox expires (negative: already expired)',
      registers: [registry],
      async collect() {
        const [row]: { expires_at: Date | null }[] = await dataSource.query(
          `SELECT min(t.expires_at) AS expires_at FROM oauth_tokens t LEFT JOIN mailboxes m ON m.id = t.mailbox_id
           WHERE t.state = 'active' AND (t.mailbox_id IS NULL OR m.enabled)`,
        );
        // No active token: report a day, so "expires soon" alerts stay quiet.
        this.set(row?.expires_at ? (new Date(row.expires_at).getTime() - clock.now()) / 1000 : 86_400);
      },
    });
  }
}
