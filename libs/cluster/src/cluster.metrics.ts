import { Inject, Injectable } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';
import { METRIC_PREFIX, METRICS_REGISTRY } from '@app/metrics';

/** Why a replica took a mailbox's lease from another. */
export const TAKEOVER_REASONS = ['dead', 'rebalance', 'drain'] as const;
export type TakeoverReason = (typeof TAKEOVER_REASONS)[number];

/**
 * A listener replica's lease counters (this replica's own events: aggregate them with sum()). Registered
 * here, incremented by the lease code. The fleet-wide gauges (replicas, unowned mailboxes) are the API's:
 * see ClusterFleetMetrics.
 */
@Injectable()
export class ClusterMetrics {
  private readonly takeovers: Counter<'reason'>;
  private readonly fenced: Counter;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.takeovers = new Counter({
      name: `${METRIC_PREFIX}lease_takeovers_total`,
      help: 'Mailbox leases this replica took over from another replica, by reason (dead: silent past CLUSTER_LEASE_TTL_MS; rebalance: a join moved it here; drain: its owner was stopping)',
      labelNames: ['reason'],
      registers: [registry],
    });
    // Every reason from the start, so rate() and increase() see the first takeover rather than a new series.
    for (const reason of TAKEOVER_REASONS) this.takeovers.inc({ reason }, 0);
    this.fenced = new Counter({
      name: `${METRIC_PREFIX}fenced_writes_total`,
      help: "Writes about a mailbox refused because this replica no longer held its lease under that epoch (the mailbox's runner stops at once)",
      registers: [registry],
    });
  }

  /** Counted by the replica that took the lease. */
  leasesTakenOver(reason: TakeoverReason, count = 1): void {
    this.takeovers.inc({ reason }, count);
  }

  fencedWrite(): void {
    this.fenced.inc();
  }
}
