import { Inject, Injectable } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import { APP_CONFIG, AppConfig } from '@app/config';
import { METRIC_PREFIX, METRICS_REGISTRY } from '@app/metrics';
import { REPLICA_STATES } from '../replica-state';
import { ClusterOverviewRepository, ClusterOverviewRow } from './cluster-overview.repository';

/**
 * Fleet-wide cluster gauges, read from Postgres at scrape time, exported by the API. The API and not the
 * listeners: "no listener is alive" must still be reported by someone (a gauge on the listeners would
 * vanish with them, and absent is not zero), and one query per API scrape is cheaper than one per
 * listener replica. With several API replicas aggregate with max(), never sum().
 */
@Injectable()
export class ClusterFleetMetrics {
  /** The scrape in progress: both gauges are collected at once and share one query. */
  private reading: Promise<ClusterOverviewRow> | undefined;

  constructor(
    @Inject(METRICS_REGISTRY) registry: Registry,
    @Inject(APP_CONFIG) config: AppConfig,
    repository: ClusterOverviewRepository,
  ) {
    const read = () =>
      (this.reading ??= repository.overview(config.cluster.leaseTtlMs).finally(() => {
        this.reading = undefined;
      }));
    new Gauge({
      name: `${METRIC_PREFIX}cluster_replicas`,
      help: 'Listener replicas heard from within CLUSTER_LEASE_TTL_MS, by state (live, draining); dead ones are not counted',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        const { replicas } = await read();
        for (const state of REPLICA_STATES) this.set({ state }, replicas.filter((replica) => replica.state === state).length);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}unowned_mailboxes`,
      help: 'Enabled mailboxes no live listener replica holds (none running, a dead owner not yet replaced, or beyond every LISTENER_MAX_MAILBOXES cap)',
      registers: [registry],
      async collect() {
        const { replicas, total } = await read();
        this.set(total - replicas.reduce((sum, replica) => sum + replica.mailboxes, 0));
      },
    });
  }
}
