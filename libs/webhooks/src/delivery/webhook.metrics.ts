import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { METRIC_PREFIX, METRICS_REGISTRY } from '@app/metrics';

/**
 * `result` of mail_listener_webhook_deliveries_total, one per attempt:
 * - delivered: a 2xx answer;
 * - failed: any other answer, a timeout, a closed connection or a redirect (retried within 24 h);
 * - gone: 410 (the endpoint is disabled at once);
 * - refused: the outbound policy refused the address (retried: OUTBOUND_ALLOWED_NETWORKS may change).
 */
export const WEBHOOK_DELIVERY_RESULTS = ['delivered', 'failed', 'gone', 'refused'] as const;
export type WebhookDeliveryResult = (typeof WEBHOOK_DELIVERY_RESULTS)[number];

@Injectable()
export class WebhookMetrics {
  readonly deliveries: Counter<'result'>;
  readonly seconds: Histogram;
  readonly backlog: Gauge;
  readonly endpoints: Gauge<'state'>;
  readonly failingSeconds: Gauge;
  readonly queueJobs: Gauge<'queue' | 'state'>;
  /** Set by the delivering workers: refreshes backlog and queue_jobs (one read of the queues per scrape). */
  queueDepths?: () => Promise<void>;
  /** Set by the delivering workers: refreshes endpoints{state}. */
  endpointCounts?: () => Promise<void>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.deliveries = new Counter({
      name: `${METRIC_PREFIX}webhook_deliveries_total`,
      help: 'Webhook delivery attempts by result (delivered, failed, gone, refused)',
      labelNames: ['result'],
      registers: [registry],
    });
    for (const result of WEBHOOK_DELIVERY_RESULTS) this.deliveries.inc({ result }, 0);
    this.seconds = new Histogram({
      name: `${METRIC_PREFIX}webhook_delivery_seconds`,
      help: 'Duration of one webhook delivery attempt (request sent to answer, or failure)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.backlog = new Gauge({
      name: `${METRIC_PREFIX}webhook_backlog`,
      help: 'Webhook deliveries not delivered yet: waiting, in flight or waiting for a retry, all endpoints (same value on every delivering replica)',
      registers: [registry],
      collect: () => this.queueDepths?.(),
    });
    this.endpoints = new Gauge({
      name: `${METRIC_PREFIX}webhook_endpoints`,
      help: 'Registered webhook endpoints by state: healthy, failing (enabled, its last attempts failed), disabled',
      labelNames: ['state'],
      registers: [registry],
      collect: () => this.endpointCounts?.(),
    });
    this.failingSeconds = new Gauge({
      name: `${METRIC_PREFIX}webhook_failing_seconds`,
      help: 'Seconds since the longest-failing enabled webhook endpoint last had a delivery succeed (0: none failing)',
      registers: [registry],
      collect: () => this.endpointCounts?.(),
    });
    this.queueJobs = new Gauge({
      name: `${METRIC_PREFIX}queue_jobs`,
      help: 'Jobs in each BullMQ queue by state (webhook-deliveries sums every endpoint queue; same value on every replica)',
      labelNames: ['queue', 'state'],
      registers: [registry],
      collect: () => this.queueDepths?.(),
    });
  }

  count(result: WebhookDeliveryResult, seconds: number): void {
    this.deliveries.inc({ result });
    this.seconds.observe(seconds);
  }
}
