import { Injectable } from '@nestjs/common';
import { ClusterOverviewService, ClusterResponse } from '@app/cluster';
import { TokenStatsRepository } from '@app/oauth';
import { CONNECTION_STATES, ConnectionState, TOKEN_STATES, TokenState } from '@app/persistence';
import { SyncMetricsRepository } from '@app/sync';
import { WebhookResponse, WebhooksService } from '@app/webhooks';
import { QueueDepth, QueueDepthsService } from './queue-depths.service';

/** The most endpoints the overview reads to find the failing ones (a page of the API's list). */
const WEBHOOKS_READ = 500;

export interface Overview {
  mailboxes: { byState: Record<ConnectionState, number>; total: number };
  tokens: { byState: Record<TokenState, number>; soonestExpiry: Date | null };
  cluster: ClusterResponse;
  queues: QueueDepth[];
  webhooks: { total: number; failing: WebhookResponse[] };
}

function byKey<K extends string>(keys: readonly K[], rows: { state: string; n: number }[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, rows.find((row) => row.state === key)?.n ?? 0])) as Record<K, number>;
}

/**
 * What an on-call engineer looks at first, from the sources the API and the metrics already use: the
 * mailboxes gauge's counts, the token gauges' counts, GET /v1/cluster, the queues, GET /v1/webhooks.
 */
@Injectable()
export class OverviewService {
  constructor(
    private readonly syncCounts: SyncMetricsRepository,
    private readonly tokenStats: TokenStatsRepository,
    private readonly cluster: ClusterOverviewService,
    private readonly queueDepths: QueueDepthsService,
    private readonly webhooks: WebhooksService,
  ) {}

  async overview(): Promise<Overview> {
    const [mailboxRows, tokenRows, soonestExpiry, cluster, queues, webhooks] = await Promise.all([
      this.syncCounts.mailboxesByState(),
      this.tokenStats.countByState(),
      this.tokenStats.soonestActiveExpiry(),
      this.cluster.overview(),
      this.queueDepths.depths(),
      this.webhooks.list(WEBHOOKS_READ, 0),
    ]);
    const byState = byKey(CONNECTION_STATES, mailboxRows);
    return {
      mailboxes: { byState, total: Object.values(byState).reduce((sum, n) => sum + n, 0) },
      tokens: { byState: byKey(TOKEN_STATES, tokenRows), soonestExpiry },
      cluster,
      queues,
      webhooks: { total: webhooks.total, failing: webhooks.items.filter((webhook) => webhook.failingSince !== null || (!webhook.enabled && webhook.disabledReason !== null)) },
    };
  }
}
