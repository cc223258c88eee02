import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Gauge, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { METRIC_PREFIX, METRICS_REGISTRY } from '@app/metrics';
import { EventOutboxRepository } from './event-outbox.repository';

/**
 * The outbox backlog, read from Postgres at scrape time. Exported by the API only (like the cluster
 * gauges): the table is shared by every process, so one exporter says it once, and it still reports when
 * no listener runs. A backlog that stays means no relay can reach Redis (state events are late, not lost).
 */
@Injectable()
export class EventOutboxMetrics {
  /** The scrape in progress: both gauges share one query. */
  private reading: Promise<{ waiting: number; oldestSeconds: number }> | undefined;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry, @InjectDataSource() dataSource: DataSource, repository: EventOutboxRepository) {
    const read = () =>
      (this.reading ??= repository.backlog(dataSource).finally(() => {
        this.reading = undefined;
      }));
    new Gauge({
      name: `${METRIC_PREFIX}event_outbox_backlog`,
      help: 'Events written to the transactional outbox and not yet on mail-events',
      registers: [registry],
      async collect() {
        this.set((await read()).waiting);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}event_outbox_oldest_seconds`,
      help: 'How long the oldest event in the transactional outbox has waited (0 when it is empty)',
      registers: [registry],
      async collect() {
        this.set((await read()).oldestSeconds);
      },
    });
  }
}
