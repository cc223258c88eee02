import { Inject, Injectable } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';
import { METRIC_PREFIX, METRICS_REGISTRY } from '@app/metrics';

export const SENT_COPY_RESULTS = ['appended', 'retried', 'failed', 'not_needed'] as const;
export type SentCopyResult = (typeof SENT_COPY_RESULTS)[number];

/** Sent copies this replica's send worker made or gave up (a failed copy never fails its send, so it has its own count). */
@Injectable()
export class SentCopyMetrics {
  readonly copies: Counter<'result'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.copies = new Counter({
      name: `${METRIC_PREFIX}sent_copies_total`,
      help: 'Copies of sent messages in the Sent folder, by result (appended; retried: a try failed, tried again later; failed: given up; not_needed: the server keeps its own)',
      labelNames: ['result'],
      registers: [registry],
    });
    for (const result of SENT_COPY_RESULTS) this.copies.inc({ result }, 0);
  }
}
