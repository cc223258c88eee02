import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';
import { Clock, CLOCK } from '@app/clock';
import { APP_CONFIG, AppConfig } from '@app/config';
import { METRIC_PREFIX, METRICS_REGISTRY } from '@app/metrics';
import { OutboxRepository } from './outbox.repository';

/** How often the worker prunes; a round runs batches until none is full. */
const PRUNE_EVERY_MS = 10 * 60_000;
/** Sends per DELETE: short transactions, a bounded cascade of content chunks (~100 per 25 MB send). */
export const PRUNE_BATCH = 200;

/**
 * Deletes sends that became final (sent or failed) more than SEND_RETENTION_DAYS ago, their contents with
 * them, in batches, in the worker process (SEND_WORKER=on). Every replica runs it; they do not fight: each
 * batch takes its rows FOR UPDATE SKIP LOCKED (OutboxRepository.pruneFinal), so two replicas delete disjoint
 * rows and neither waits. One retention for both final states and for row and content alike: the status
 * (GET …/outbox/:sendId) stays readable as long as its content is kept, and there is no API to retry a failed
 * send from its stored content, so nothing gains from keeping one longer than the other. Counted by
 * mail_listener_sends_pruned_total{state}.
 */
@Injectable()
export class SendPruner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SendPruner.name);
  private readonly pruned: Counter<'state'>;
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    private readonly repository: OutboxRepository,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.pruned = new Counter({
      name: `${METRIC_PREFIX}sends_pruned_total`,
      help: 'Sends (with their stored message) deleted SEND_RETENTION_DAYS after they were sent or failed, by that final state',
      labelNames: ['state'],
      registers: [registry],
    });
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.prune().catch((error: Error) => this.logger.warn(`Pruning sends: ${error.message}`)), PRUNE_EVERY_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One round: batches until one is not full. Returns the sends this replica deleted. */
  prune(): Promise<number> {
    this.running ??= this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(): Promise<number> {
    const before = new Date(this.clock.now() - this.config.sending.retentionMs);
    let total = 0;
    for (;;) {
      const counts = await this.repository.pruneFinal(before, PRUNE_BATCH);
      let batch = 0;
      for (const [state, n] of Object.entries(counts)) {
        this.pruned.inc({ state }, n);
        batch += n;
      }
      total += batch;
      if (batch < PRUNE_BATCH) break;
    }
    if (total > 0) this.logger.log(`Pruned ${total} sends final before ${before.toISOString()}`);
    return total;
  }
}
