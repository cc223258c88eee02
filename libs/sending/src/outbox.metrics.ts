import { Inject, Injectable } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import { METRIC_PREFIX, METRICS_REGISTRY } from '@app/metrics';
import { OutboxRepository } from './outbox.repository';
import { PENDING_SEND_STATES } from './send-state';

/**
 * The outbox depth, read from Postgres at scrape time, exported by the API only (like
 * mail_listener_event_outbox_backlog). Why Postgres and not the `mail-send` BullMQ queue: the rows are the
 * truth (a send stored while Redis was away has no job until the worker's sweep adds one, a job in its
 * backoff is still `queued` here), and the API reports it even when no worker runs, which is exactly when
 * the depth grows. One exporter (the table is shared) says it once: aggregate with max(), not sum().
 */
@Injectable()
export class OutboxMetrics {
  constructor(@Inject(METRICS_REGISTRY) registry: Registry, repository: OutboxRepository) {
    new Gauge({
      name: `${METRIC_PREFIX}outbox_sends`,
      help: 'Sends not final yet, by state (queued: waiting or retrying; sending: an attempt in flight)',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        const counts = await repository.pendingByState();
        for (const state of PENDING_SEND_STATES) this.set({ state }, counts.get(state) ?? 0);
      },
    });
  }
}
