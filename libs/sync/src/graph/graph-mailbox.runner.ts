import { errorMessage, FailureCode } from '@app/failures';
import { GraphMailboxClient, GraphNotificationItem } from '@app/graph';
import { CredentialUnavailableError } from '../mailbox-credentials';
import { refOf, MailboxSpec } from '../mailbox-spec';
import { MailboxRunnerLike, RunnerStopEvent, RunnerStopOptions } from '../runner/mailbox-runner-like';
import { ReconnectingRunner } from '../runner/reconnecting-runner';
import { RunnerDependencies } from '../runner/runner-dependencies';
import { GraphFailure, graphFailureOf } from './graph-failure';
import { deleteGraphSubscription, GraphFolderSync, GraphPushUrls } from './graph-folder.sync';
import { GraphSubscriptionState } from './graph-subscription-state';
import { GraphSubscriptionRepository } from './graph-subscription.repository';

export interface GraphRunnerDependencies extends RunnerDependencies {
  subscriptions: GraphSubscriptionRepository;
  push: GraphPushUrls | null;
  subscriptionMinutes: number;
  safetyDeltaMs: number;
  pollIntervalMs: number;
  /** Extra CA (PEM) for Graph over TLS (OAUTH_CA_FILE: corporate proxies, test servers). */
  caPem?: string;
}

/** Ask for a new access token when the cached one has less than this left. */
const TOKEN_REUSE_MIN_MS = 5 * 60_000;
/** Folders due for renewal within this share of the lifetime join a renewal in progress (one $batch). */
const RENEW_TOGETHER_SHARE = 0.1;

/**
 * Keeps one Microsoft Graph mailbox in sync: one GraphFolderSync per followed folder, sharing one Graph
 * client (Exchange allows 4 concurrent requests per mailbox and app). Connecting = every folder has a
 * live subscription (or polls) and has caught up by delta. A failure anywhere closes the folders and
 * reconnects with backoff; a refused token backs off far longer, after one forced refresh.
 */
export class GraphMailboxRunner extends ReconnectingRunner<GraphRunnerDependencies> implements MailboxRunnerLike {
  private folders: GraphFolderSync[] = [];
  /** Folders of the attempt in progress: notifications reach them before the whole mailbox is connected. */
  private opening: GraphFolderSync[] = [];
  /** renewDueSoon is pulling folders in (their own renewals call it again). */
  private joiningRenewals = false;
  private client: GraphMailboxClient | null = null;
  private token: { value: string; expiresAt: number } | null = null;
  /**
   * Subscriptions an ended attempt kept at Graph for the next one to adopt, until an attempt connects
   * (adopted by then, or found gone and replaced). A mailbox disabled or deleted before that — backing
   * off, say — has them deleted by its stop: its folders hold none, and a deleted mailbox's rows are gone.
   */
  private readonly keptAtGraph = new Set<string>();
  /** Closings in progress (an attempt that failed, a restart): a stop waits for the subscriptions they keep. */
  private readonly closing = new Set<Promise<void>>();

  constructor(spec: MailboxSpec, deps: GraphRunnerDependencies) {
    super(spec, deps);
  }

  async stop(event: RunnerStopEvent, options: RunnerStopOptions = {}): Promise<void> {
    this.halt();
    // Released (shutdown), replaced (settings changed) or handed over (another replica holds the lease now):
    // the subscription stays at Graph for whoever runs the mailbox next; only an unwanted (disabled) or deleted mailbox's goes.
    const deleteSubscriptions = event !== 'release' && !options.replaced && !options.handover;
    await this.closeFolders(deleteSubscriptions);
    await Promise.allSettled([...this.closing]);
    if (deleteSubscriptions && this.client) {
      const deps = { client: this.client, subscriptions: this.deps.subscriptions, mailbox: refOf(this.spec), lease: this.deps.lease };
      await Promise.all([...this.keptAtGraph].map((id) => deleteGraphSubscription(deps, id, this.logger)));
    }
    this.keptAtGraph.clear();
    // Its own connection pool (an Agent under an enforced outbound policy or an extra CA) goes with it;
    // not awaited: closing waits for requests still in flight.
    void this.client?.close().catch(() => undefined);
    this.client = null;
    await this.finalReport(event);
  }

  async restart(): Promise<void> {
    if (this.stopped) return;
    await this.closeFolders(false);
    await this.connect('start');
  }

  onNotification(item: GraphNotificationItem): void {
    const matches = (folder: GraphFolderSync) => folder.folder.id === item.folderId;
    (this.folders.find(matches) ?? this.opening.find(matches))?.onNotification(item);
  }

  /** Subscription state per followed folder (metrics). */
  subscriptionStates(): GraphSubscriptionState[] {
    return this.folders.map((folder) => folder.state);
  }

  /** Ends the current attempt: its folders, connected or still opening, close (a stopped runner creates nothing more at Graph). */
  private async closeFolders(deleteSubscriptions: boolean): Promise<void> {
    this.nextAttempt();
    const folders = [...this.folders, ...this.opening];
    this.folders = [];
    this.opening = [];
    await this.close(folders, deleteSubscriptions);
  }

  /** Closes `folders`, remembering the subscriptions they keep at Graph. */
  private async close(folders: GraphFolderSync[], deleteSubscriptions: boolean): Promise<void> {
    const closing = Promise.all(folders.map((folder) => folder.close(deleteSubscriptions))).then((kept) => {
      for (const id of kept) if (id) this.keptAtGraph.add(id);
    });
    this.closing.add(closing);
    try {
      await closing;
    } finally {
      this.closing.delete(closing);
    }
  }

  protected async connectOnce(event: 'start' | 'retry'): Promise<void> {
    const attempt = await this.beginAttempt(event);
    if (attempt === null) return;
    if (this.spec.authMethod !== 'oauth2') {
      return this.failed({ kind: 'credential', code: FailureCode.GraphNeedsOAuth, message: 'Microsoft Graph needs OAuth 2.0: set the provider authMethod to oauth2' });
    }
    this.client ??= new GraphMailboxClient({
      baseUrl: this.spec.graphBaseUrl!,
      user: this.spec.login,
      accessToken: ({ forceRefresh }) => this.accessToken(forceRefresh),
      caPem: this.deps.caPem,
      outbound: this.deps.outbound,
      onThrottled: () => this.deps.metrics.graphThrottled.inc(),
    });
    const folders = this.spec.folders.map((folder) => new GraphFolderSync(folder, this.folderDependencies(attempt)));
    // A folder that is subscribed and caught up may be notified while the others are still opening.
    this.opening = folders;
    try {
      if (this.refreshTokenFirst) await this.accessToken(true);
      this.refreshTokenFirst = false;
      await Promise.all(folders.map((folder) => folder.open()));
    } catch (error) {
      await this.close(folders, false);
      if (this.fencedOut(error)) return;
      if (this.isCurrent(attempt)) await this.failed(graphFailureOf(error));
      return;
    } finally {
      if (this.opening === folders) this.opening = [];
    }
    if (!this.isCurrent(attempt)) {
      await this.close(folders, false);
      return;
    }
    this.folders = folders;
    this.keptAtGraph.clear();
    await this.listening();
  }

  private folderDependencies(attempt: number) {
    const { cursors, events, reporter, metrics, clock, lease, subscriptions, push, subscriptionMinutes, safetyDeltaMs, pollIntervalMs } = this.deps;
    return {
      client: this.client!,
      mailbox: refOf(this.spec),
      cursors,
      subscriptions,
      events,
      reporter,
      metrics,
      clock,
      lease,
      push,
      subscriptionMinutes,
      safetyDeltaMs,
      pollIntervalMs,
      backfillSince: this.spec.backfillSince,
      onFailure: (error: unknown) => void this.dropped(attempt, error),
      onRenewalDue: () => this.renewDueSoon(),
    };
  }

  /**
   * A folder's renewal is starting: the other folders whose renewal falls within the next tenth of the
   * lifetime renew with it (a little early), so Graph gets one $batch instead of one PATCH per folder.
   */
  private renewDueSoon(): void {
    if (this.joiningRenewals) return;
    this.joiningRenewals = true;
    try {
      const by = this.deps.clock.now() + this.deps.subscriptionMinutes * 60_000 * RENEW_TOGETHER_SHARE;
      for (const folder of this.folders) folder.renewIfDueBy(by);
    } finally {
      this.joiningRenewals = false;
    }
  }

  /** The cached access token while it has a few minutes left (the refresh scheduler renews it ahead). */
  private async accessToken(forceRefresh: boolean): Promise<string> {
    const now = this.deps.clock.now();
    if (!forceRefresh && this.token && this.token.expiresAt - now > TOKEN_REUSE_MIN_MS) return this.token.value;
    const resolved = await this.deps.credentials.resolve(this.spec, { forceRefresh, lease: this.deps.lease });
    if (resolved.credential.kind !== 'oauth2') throw new CredentialUnavailableError(FailureCode.GraphNeedsOAuth, 'Microsoft Graph needs an OAuth access token');
    this.token = { value: resolved.credential.accessToken, expiresAt: resolved.expiresAt?.getTime() ?? now + TOKEN_REUSE_MIN_MS };
    return this.token.value;
  }

  private async dropped(attempt: number, error: unknown): Promise<void> {
    if (this.fencedOut(error) || !this.isCurrent(attempt)) return;
    const failure = graphFailureOf(error);
    this.logger.warn(`Graph sync failed (${failure.code}: ${failure.message})`);
    await this.closeFolders(false);
    this.deps.metrics.reconnects.inc({ reason: failure.kind });
    await this.failed(failure).catch((problem: unknown) => {
      if (this.fencedOut(problem)) return;
      this.logger.error(`Handling a failure failed: ${errorMessage(problem)}`);
      this.retryIn(this.reconnects.nextDelay(this.deps.clock.now()));
    });
  }

  private async failed(failure: GraphFailure): Promise<void> {
    const reason = { code: failure.code, message: failure.message };
    if (failure.kind === 'auth' || failure.kind === 'credential') {
      if (await this.loginRejected(reason, failure.kind === 'auth')) return;
      return this.retryIn(this.authRetries.nextDelay(this.deps.clock.now()));
    }
    await this.connectionDropped(reason, failure.retryAfterMs ?? 0);
  }
}
