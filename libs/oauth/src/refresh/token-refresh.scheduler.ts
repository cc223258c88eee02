import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { tokenFields } from './token-log-fields';
import { concurrencyLimit } from '@app/async';
import { ClusterMetrics } from '@app/cluster';
import { APP_CONFIG, AppConfig } from '@app/config';
import { Clock, CLOCK } from '@app/clock';
import { DueToken, OAuthTokenStore } from '../oauth-token.store';
import { RefreshOutcome, TokenRefresher } from './token-refresher';
import { TokenWriteFence } from './token-write-fence';
import { errorMessage } from '@app/failures';

const BATCH = 1000;

/**
 * Finds active tokens whose refresh is due (ahead of expiry, with jitter; or after a backoff) and refreshes
 * them with bounded concurrency. Tokens of disabled mailboxes are left alone; invalid tokens never come up.
 * With several replicas, a mailbox's token is refreshed by the replica holding its lease, under that lease
 * (a write after the lease moved on is refused and counted as a fenced write), and a provider's app-only
 * token by one replica: see OAuthTokenStore.dueForRefresh.
 */
@Injectable()
export class TokenRefreshScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TokenRefreshScheduler.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;

  constructor(
    private readonly store: OAuthTokenStore,
    private readonly refresher: TokenRefresher,
    private readonly cluster: ClusterMetrics,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass over every due token; returns how each went. */
  async runOnce(): Promise<RefreshOutcome[]> {
    const outcomes: RefreshOutcome[] = [];
    for (;;) {
      const me = { id: this.config.listener.id, leaseTtlMs: this.config.cluster.leaseTtlMs };
      const rows = await this.store.dueForRefresh(new Date(this.clock.now()), me, BATCH);
      if (rows.length === 0) return outcomes;
      const batch = await this.inParallel(rows);
      outcomes.push(...batch);
      // Everything skipped: others hold these tokens; do not spin on them in this pass.
      if (rows.length < BATCH || batch.every((outcome) => outcome === 'skipped')) return outcomes;
    }
  }

  /** At most OAUTH_REFRESH_CONCURRENCY refreshes at once, in due order. */
  private inParallel(tokens: DueToken[]): Promise<RefreshOutcome[]> {
    const limit = concurrencyLimit(this.config.oauth.refresh.concurrency);
    return Promise.all(
      tokens.map((token) =>
        limit(() =>
          this.refreshOne(token).catch((error: unknown) => {
            this.logger.error(tokenFields(token), `Token ${token.id}: refresh crashed: ${errorMessage(error)}`);
            return 'skipped' as const;
          }),
        ),
      ),
    );
  }

  /** A token of a mailbox this replica holds is refreshed under the lease: its writes are fenced by owner and epoch. */
  private async refreshOne(token: DueToken): Promise<RefreshOutcome> {
    if (token.mailboxId === null || token.epoch === null) return this.refresher.refresh(token.id);
    const fence = new TokenWriteFence({ mailboxId: token.mailboxId, owner: this.config.listener.id, epoch: token.epoch });
    const outcome = await this.refresher.refresh(token.id, fence);
    if (!fence.refused) return outcome;
    this.cluster.fencedWrite();
    this.logger.warn(tokenFields(token), `Token ${token.id}: mailbox ${token.mailboxId} was taken over during the refresh (epoch ${token.epoch}); its result was dropped`);
    return 'skipped';
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .catch((error: unknown) => this.logger.error(`Refresh pass failed: ${errorMessage(error)}`))
        .finally(() => this.schedule(this.config.oauth.refresh.checkIntervalMs));
    }, delay);
    this.timer.unref();
  }
}
