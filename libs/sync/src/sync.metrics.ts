import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { METRIC_PREFIX, METRICS_REGISTRY } from '@app/metrics';
import { CONNECTION_STATES } from '@app/persistence';
import { GRAPH_SUBSCRIPTION_STATES } from './graph/graph-subscription-state';
import { SyncMetricsRepository } from './sync-metrics.repository';

/** Where a Graph notification item taken off a queue went (see GraphNotificationWorker). */
export const GRAPH_NOTIFICATION_ROUTES = ['local', 'forwarded', 'dropped'] as const;
export type GraphNotificationRoute = (typeof GRAPH_NOTIFICATION_ROUTES)[number];

/**
 * Mailbox sync metrics. Counters and the lag histogram are this replica's; the two fleet-wide gauges
 * are read from Postgres at scrape time (aggregate them with max(), not sum()).
 */
export const WARM_STANDBY_OUTCOMES = ['ready', 'activated', 'lost', 'closed', 'given_up', 'expired'] as const;
export type WarmStandbyOutcome = (typeof WARM_STANDBY_OUTCOMES)[number];

@Injectable()
export class SyncMetrics {
  readonly lag: Histogram;
  readonly published: Counter<'type'>;
  readonly reconnects: Counter<'reason'>;
  readonly owned: Gauge;
  readonly graphThrottled: Counter;
  readonly graphSubscriptions: Gauge<'state'>;
  readonly graphNotificationsRouted: Counter<'route'>;
  /** Make-before-break hand-overs, the taker's side: what became of each warm standby (see WarmStandbys). */
  readonly warmStandbys: Counter<'outcome'>;
  /** New messages left unpublished because they are our own Sent copies (libs/sending sent-copy/). */
  readonly ownSentCopiesSkipped: Counter;
  /** Set by the supervisor: counts its Graph folders by subscription state at scrape time. */
  graphSubscriptionSource: () => Map<string, number> = () => new Map();

  constructor(@Inject(METRICS_REGISTRY) registry: Registry, repository: SyncMetricsRepository) {
    this.lag = new Histogram({
      name: `${METRIC_PREFIX}sync_lag_seconds`,
      help: 'Seconds from the mail server receiving a message (INTERNALDATE) to its event being published',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800],
      registers: [registry],
    });
    this.published = new Counter({ name: `${METRIC_PREFIX}events_published_total`, help: 'Events published on mail-events, by type', labelNames: ['type'], registers: [registry] });
    this.reconnects = new Counter({ name: `${METRIC_PREFIX}reconnects_total`, help: 'Mailbox reconnections, by reason', labelNames: ['reason'], registers: [registry] });
    this.owned = new Gauge({ name: `${METRIC_PREFIX}owned_mailboxes`, help: 'Mailboxes this listener replica is running', registers: [registry] });
    this.graphThrottled = new Counter({
      name: `${METRIC_PREFIX}graph_throttled_total`,
      help: 'Graph requests answered 429/503 with Retry-After (waited and retried)',
      registers: [registry],
    });
    this.graphNotificationsRouted = new Counter({
      name: `${METRIC_PREFIX}graph_notifications_routed_total`,
      help:
        'Graph notification items this replica took off a queue, by route (local: to its own runner; forwarded: to the replica holding the mailbox; dropped: nobody here runs it, its next owner catches up by delta)',
      labelNames: ['route'],
      registers: [registry],
    });
    for (const route of GRAPH_NOTIFICATION_ROUTES) this.graphNotificationsRouted.inc({ route }, 0);
    this.ownSentCopiesSkipped = new Counter({
      name: `${METRIC_PREFIX}own_sent_copies_skipped_total`,
      help: 'New messages in a followed folder not published as mail.received because they are copies of our own sends appended to the Sent folder',
      registers: [registry],
    });
    this.warmStandbys = new Counter({
      name: `${METRIC_PREFIX}warm_standbys_total`,
      help:
        'Warm standby sessions a taker opened before asking for a mailbox lease, by outcome (ready: listening, lease asked for; activated: granted or taken over, caught up on the open session; lost: dropped before the grant; closed: no longer wanted; given_up: asked for without one)',
      labelNames: ['outcome'],
      registers: [registry],
    });
    for (const outcome of WARM_STANDBY_OUTCOMES) this.warmStandbys.inc({ outcome }, 0);
    const metrics = this;
    this.graphSubscriptions = new Gauge({
      name: `${METRIC_PREFIX}graph_subscriptions`,
      help: 'Graph mail folders run by this replica, by subscription state (polling: no PUBLIC_BASE_URL)',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const counts = metrics.graphSubscriptionSource();
        for (const state of GRAPH_SUBSCRIPTION_STATES) this.set({ state }, counts.get(state) ?? 0);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}mailboxes`,
      help: 'Mailboxes by connection state (fleet-wide, from the database)',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        const rows = await repository.mailboxesByState();
        for (const state of CONNECTION_STATES) this.set({ state }, rows.find((row) => row.state === state)?.n ?? 0);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}seconds_since_last_sync_max`,
      help: 'Worst enabled mailbox: seconds since it was last known in sync (0 while every enabled mailbox is connected)',
      registers: [registry],
      async collect() {
        const oldest = await repository.oldestUnsyncedAt();
        this.set(oldest ? Math.max(0, (Date.now() - new Date(oldest).getTime()) / 1000) : 0);
      },
    });
  }
}
