import { Inject, Injectable } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';
import { METRIC_PREFIX, METRICS_REGISTRY } from '@app/metrics';
import { GRAPH_LIFECYCLE_EVENTS, GraphLifecycleEvent } from './graph-notification.job';

/**
 * `result` of mail_listener_graph_notifications_total, one per notification item:
 * - accepted: a change notification enqueued for the listener;
 * - lifecycle_<event>: a lifecycle notification (reauthorizationRequired, subscriptionRemoved, missed) enqueued;
 * - forged: known subscription, missing or wrong clientState (dropped);
 * - unknown_subscription: no such subscription in graph_subscriptions (dropped);
 * - invalid: an item that is not a well-formed notification (not an object, a subscriptionId that is not a
 *   GUID, a field of the wrong type, NUL characters…) or beyond the items read of one POST, a lifecycle
 *   item with a missing or unknown lifecycleEvent (all dropped), or a body rejected with 400 (counted once
 *   per item it claimed to carry, once if it had none);
 * - enqueue_failed: would have been accepted, but Redis did not store the job; answered 503, so Graph
 *   delivers the batch again.
 */
export const GRAPH_NOTIFICATION_RESULTS = [
  'accepted',
  ...GRAPH_LIFECYCLE_EVENTS.map((event) => `lifecycle_${event}` as const),
  'forged',
  'unknown_subscription',
  'invalid',
  'enqueue_failed',
] as const;
export type GraphNotificationResult = (typeof GRAPH_NOTIFICATION_RESULTS)[number];

export function lifecycleResult(event: GraphLifecycleEvent): GraphNotificationResult {
  return `lifecycle_${event}`;
}

/** Results whose items go into the job. */
export function isKeptResult(result: GraphNotificationResult): boolean {
  return result === 'accepted' || result.startsWith('lifecycle_');
}

@Injectable()
export class GraphIntakeMetrics {
  private readonly notifications: Counter<'result'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.notifications = new Counter({
      name: `${METRIC_PREFIX}graph_notifications_total`,
      help: 'Microsoft Graph notification items received by the webhook receiver, by result',
      labelNames: ['result'],
      registers: [registry],
    });
    // Every series exists from the start, so rate() and alerts see the first increase.
    for (const result of GRAPH_NOTIFICATION_RESULTS) this.notifications.inc({ result }, 0);
  }

  count(tally: Partial<Record<GraphNotificationResult, number>>): void {
    for (const [result, n] of Object.entries(tally)) if (n) this.notifications.inc({ result }, n);
  }
}
