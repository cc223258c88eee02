import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import { METRIC_PREFIX, METRICS_REGISTRY } from '@app/metrics';
import { TOKEN_STATES } from '@app/persistence';
import { Clock, CLOCK } from '@app/clock';
import { TokenStatsRepository } from './token-stats.repository';

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
    stats: TokenStatsRepository,
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
        const rows = await stats.countByState();
        for (const state of TOKEN_STATES) this.set({ state }, rows.find((row) => row.state === state)?.n ?? 0);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}token_soonest_expiry_seconds`,
      help: 'Seconds until the soonest-expiring active token of an enabled mailbox expires (negative: already expired)',
      registers: [registry],
      async collect() {
        const soonest = await stats.soonestActiveExpiry();
        // No active token: report a day, so "expires soon" alerts stay quiet.
        this.set(soonest ? (soonest.getTime() - clock.now()) / 1000 : 86_400);
      },
    });
  }
}
