import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { concurrencyLimit } from '@app/async';
import { APP_CONFIG, AppConfig } from '@app/config';
import { Clock, CLOCK } from '@app/clock';
import { RefreshOutcome, TokenRefresher } from './token-refresher';

const BATCH = 1000;

/**
 * Finds active tokens whose refresh is due (ahead of expiry, with jitter; or after a backoff) and refreshes
 * them with bounded concurrency. Tokens of disabled mailboxes are left alone; invalid tokens never come up.
 */
@Injectable()
export class TokenRefreshScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TokenRefreshScheduler.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly refresher: TokenRefresher,
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
      const rows: { id: string }[] = await this.dataSource.query(
        `SELECT t.id FROM oauth_tokens t LEFT JOIN mailboxes m ON m.id = t.mailbox_id
         WHERE t.state = 'active' AND t.refresh_due_at <= $1 AND (t.mailbox_id IS NULL OR m.enabled)
         ORDER BY t.refresh_due_at LIMIT $2`,
        [new Date(this.clock.now()), BATCH],
      );
      if (rows.length === 0) return outcomes;
      const batch = await this.inParallel(rows.map((row) => row.id));
      outcomes.push(...batch);
      // Everything skipped: others hold these tokens; do not spin on them in this pass.
      if (rows.length < BATCH || batch.every((outcome) => outcome === 'skipped')) return outcomes;
    }
  }

  /** At most OAUTH_REFRESH_CONCURRENCY refreshes at once, in due order. */
  private inParallel(ids: string[]): Promise<RefreshOutcome[]> {
    const limit = concurrencyLimit(this.config.oauth.refresh.concurrency);
    return Promise.all(
      ids.map((id) =>
        limit(() =>
          this.refresher.refresh(id).catch((error: unknown) => {
            this.logger.error(`Token ${id}: refresh crashed: ${error instanceof Error ? error.message : String(error)}`);
            return 'skipped' as const;
          }),
        ),
      ),
    );
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .catch((error: unknown) => this.logger.error(`Refresh pass failed: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => this.schedule(this.config.oauth.refresh.checkIntervalMs));
    }, delay);
    this.timer.unref();
  }
}
