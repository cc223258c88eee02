import { Inject, Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry } from 'prom-client';
import { METRIC_PREFIX, METRICS_REGISTRY } from '@app/metrics';
import { SendResult } from './send-state';

/**
 * The send worker's metrics (this replica's attempts). `provider` is the provider id: providers are
 * admin-created mail services, few and long-lived, and MailListenerSendsFailing is per provider (one
 * provider's SMTP server refusing everything must not hide behind the others' successes). No mailbox label.
 */
@Injectable()
export class SendMetrics {
  readonly sends: Counter<'result' | 'provider'>;
  readonly seconds: Histogram;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.sends = new Counter({
      name: `${METRIC_PREFIX}sends_total`,
      help: 'Send attempts by result (sent: accepted by the server; failed: given up, permanent; retried: transient failure, queued again) and provider id',
      labelNames: ['result', 'provider'],
      registers: [registry],
    });
    this.seconds = new Histogram({
      name: `${METRIC_PREFIX}send_duration_seconds`,
      help: 'Seconds from a send being queued (accepted by the API) to the SMTP server accepting it, for sent ones (retries included)',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600],
      registers: [registry],
    });
  }

  /** `queuedSeconds`: time since the send was queued, observed for sent ones only. */
  record(result: SendResult, provider: string, queuedSeconds: number): void {
    this.sends.inc({ result, provider });
    if (result === 'sent') this.seconds.observe(queuedSeconds);
  }
}
