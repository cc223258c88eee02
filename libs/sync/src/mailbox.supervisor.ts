import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ConcurrencyLimit, concurrencyLimit } from '@app/async';
import { APP_CONFIG, AppConfig } from '@app/config';
import { MailEventsPublisher } from '@app/events';
import { ConnectRamp } from '@app/imap';
import { Clock, CLOCK } from '@app/clock';
import { OutboundPolicy } from '@app/outbound';
import { FolderCursorRepository } from './folder-cursor.repository';
import { MailboxCredentials } from './mailbox-credentials';
import { GraphMailboxRunner, GraphRunnerDependencies } from './graph/graph-mailbox.runner';
import { GraphSubscriptionRepository } from './graph/graph-subscription.repository';
import { ImapMailboxRunner, ImapRunnerDependencies } from './imap/imap-mailbox.runner';
import { MailboxRunnerLike } from './runner/mailbox-runner-like';
import { RunnerDependencies } from './runner/runner-dependencies';
import { MailboxSpec } from './mailbox-spec';
import { MailboxSpecsLoader } from './mailbox-specs.loader';
import { MailboxSpecRepository } from './mailbox-spec.repository';
import { MailboxStateReporter } from './mailbox-state.reporter';
import { SyncMetrics } from './sync.metrics';

/** A full comparison with the database at least this often, even when the cheap version query saw no change. */
const FULL_RELOAD_MS = 5 * 60_000;

/**
 * Decides which mailboxes this listener runs: every `SYNC_RECONCILE_INTERVAL_MS` it compares what the
 * database wants (enabled IMAP mailboxes) with its runners, starting new ones, stopping disabled or
 * deleted ones (their sessions close within one interval), restarting those whose settings, password or
 * token grant changed, and reconnecting those asked to resync. (Until replica leases exist, one listener
 * runs every mailbox.)
 */
@Injectable()
export class MailboxSupervisor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MailboxSupervisor.name);
  private readonly runners = new Map<string, MailboxRunnerLike>();
  private readonly ramp: ConnectRamp;
  /**
   * At most `SYNC_CONNECT_CONCURRENCY` connection attempts in progress at once (all hosts). The per-host
   * ConnectRamp paces how fast attempts start; this bounds how many are in flight, so 10,000 mailboxes
   * starting together queue here instead of in the database pool (where waiters time out after 30 s and
   * fail their attempt).
   */
  private readonly connectSlots: ConcurrencyLimit;
  private readonly imapDependencies: ImapRunnerDependencies;
  private readonly graphDependencies: GraphRunnerDependencies;
  private timer?: NodeJS.Timeout;
  private reconciling?: Promise<void>;
  private stopped = false;
  private lastVersion: string | null = null;
  private lastFullReload = 0;

  constructor(
    private readonly specs: MailboxSpecsLoader,
    private readonly mailboxes: MailboxSpecRepository,
    private readonly metrics: SyncMetrics,
    private readonly reporter: MailboxStateReporter,
    credentials: MailboxCredentials,
    cursors: FolderCursorRepository,
    events: MailEventsPublisher,
    subscriptions: GraphSubscriptionRepository,
    @Inject(CLOCK) clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    outbound: OutboundPolicy,
  ) {
    this.ramp = new ConnectRamp(config.listener.connectRatePerHost);
    this.connectSlots = concurrencyLimit(config.listener.connectConcurrency);
    const shared: RunnerDependencies = {
      reporter,
      credentials,
      cursors,
      events,
      metrics,
      ramp: this.ramp,
      connectSlots: this.connectSlots,
      clock,
      outbound,
      ownerId: config.listener.id,
      epoch: 0,
    };
    this.imapDependencies = {
      ...shared,
      authDisableAfterMs: config.listener.authDisableAfterMs,
      safetySweepMs: config.listener.safetySweepMs,
      disableMailbox: (id) => mailboxes.disable(id),
    };
    const base = config.publicBaseUrl;
    this.graphDependencies = {
      ...shared,
      subscriptions,
      push: base ? { notificationUrl: `${base}/v1/graph/notifications`, lifecycleNotificationUrl: `${base}/v1/graph/lifecycle` } : null,
      subscriptionMinutes: config.graph.subscriptionMinutes,
      safetyDeltaMs: config.graph.safetyDeltaMs,
      pollIntervalMs: config.graph.pollIntervalMs,
      caPem: config.oauth.caPem,
    };
    metrics.graphSubscriptionSource = () => this.countGraphSubscriptions();
  }

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.reconciling;
    // Attempts still waiting for a connect slot find their runner stopped when their turn comes and return at once.
    this.ramp.close();
    // Hand the mailboxes back (state pending, no owner) so another replica can take them at once.
    await Promise.all([...this.runners.values()].map((runner) => runner.stop('release').catch(() => undefined)));
    this.runners.clear();
  }

  runner(mailboxId: string): MailboxRunnerLike | undefined {
    return this.runners.get(mailboxId);
  }

  /** The IMAP runner of a mailbox this listener runs. */
  imapRunner(mailboxId: string): ImapMailboxRunner | undefined {
    const runner = this.runners.get(mailboxId);
    return runner instanceof ImapMailboxRunner ? runner : undefined;
  }

  /** The Graph runner of a mailbox this listener runs (notifications are routed to it). */
  graphRunner(mailboxId: string): GraphMailboxRunner | undefined {
    const runner = this.runners.get(mailboxId);
    return runner instanceof GraphMailboxRunner ? runner : undefined;
  }

  private newRunner(spec: MailboxSpec): MailboxRunnerLike {
    return spec.kind === 'graph' ? new GraphMailboxRunner(spec, this.graphDependencies) : new ImapMailboxRunner(spec, this.imapDependencies);
  }

  private countGraphSubscriptions(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const runner of this.runners.values()) {
      if (!(runner instanceof GraphMailboxRunner)) continue;
      for (const state of runner.subscriptionStates()) counts.set(state, (counts.get(state) ?? 0) + 1);
    }
    return counts;
  }

  /** Compares with the database; skips the full comparison while nothing it depends on changed (a full pass at least every FULL_RELOAD_MS). */
  async reconcile(force = false): Promise<void> {
    const version = await this.mailboxes.version();
    if (!force && version === this.lastVersion && Date.now() - this.lastFullReload < FULL_RELOAD_MS) return;
    this.lastVersion = version;
    this.lastFullReload = Date.now();
    const desired = await this.specs.desired();
    for (const [id, runner] of this.runners) {
      const wanted = desired.get(id);
      if (wanted && wanted.spec.fingerprint === runner.spec.fingerprint) continue;
      this.runners.delete(id);
      const event = wanted ? 'release' : (await this.mailboxes.exists(id)) ? 'disable' : null;
      await runner.stop(wanted ? null : event, { replaced: Boolean(wanted) });
      if (!wanted) this.reporter.forget(id);
    }
    for (const [id, { spec, resyncRequestedAt, status }] of desired) {
      let runner = this.runners.get(id);
      if (!runner) {
        if (status) this.reporter.seed(id, status);
        runner = this.newRunner(spec);
        this.runners.set(id, runner);
        runner.start();
      } else if (resyncRequestedAt) {
        this.logger.log(`Mailbox ${id}: resync requested`);
        void runner.restart();
      }
      if (resyncRequestedAt) await this.mailboxes.clearResync(id, resyncRequestedAt);
    }
    this.metrics.owned.set(this.runners.size);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.reconciling = this.reconcile()
        .catch((error: unknown) => this.logger.error(`Reconcile failed: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => this.schedule(this.config.listener.reconcileIntervalMs));
    }, delay);
    this.timer.unref();
  }
}
