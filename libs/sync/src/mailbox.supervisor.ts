import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { aboutMailbox } from '@app/logging';
import { ClusterMetrics, FencedOutError, isFencedOut, LeaseKeeper, LeaseRound, LeaseToHandOver, ReplicaRegistry, rendezvousOwner } from '@app/cluster';
import { ControlMessage } from '@app/control';
import { APP_CONFIG, AppConfig } from '@app/config';
import { MailEventsPublisher } from '@app/events';
import { ConnectGate, ConnectRamp } from '@app/imap';
import { Clock, CLOCK } from '@app/clock';
import { ReadinessGates } from '@app/health';
import { HeapGrowthOnceSettled } from '@app/lifecycle';
import { OutboundPolicy } from '@app/outbound';
import { FolderCursorRepository } from './folder-cursor.repository';
import { MailboxCredentials } from './mailbox-credentials';
import { GraphMailboxRunner, GraphRunnerDependencies } from './graph/graph-mailbox.runner';
import { GraphSubscriptionRepository } from './graph/graph-subscription.repository';
import { OwnSentCopyRepository } from './imap/own-sent-copy.repository';
import { ImapMailboxRunner, ImapRunnerDependencies, NO_LEASE_EPOCH } from './imap/imap-mailbox.runner';
import { drainLeases } from './lease-drain';
import { MailboxRunnerLike, RunnerStopEvent, RunnerStopOptions } from './runner/mailbox-runner-like';
import { RunnerDependencies } from './runner/runner-dependencies';
import { MailboxSpec } from './mailbox-spec';
import { DesiredMailbox, MailboxSpecsLoader } from './mailbox-specs.loader';
import { MailboxSpecRepository } from './mailbox-spec.repository';
import { MailboxStateReporter } from './mailbox-state.reporter';
import { SyncMetrics } from './sync.metrics';
import { HandoverPace } from './handover-pace';
import { WarmStandbys } from './warm-standbys';
import { errorMessage } from '@app/failures';

/** A full comparison with the database at least this often, even when the cheap version query saw no change. */
const FULL_RELOAD_MS = 5 * 60_000;
/**
 * While this replica waits for mailboxes it asked for, its lease rounds come this often (instead of every
 * SYNC_RECONCILE_INTERVAL_MS): the owner grants once its runner stopped, and the mailbox is unheard
 * until the taker's next round starts its runner. Draining replicas answer asks this often too.
 */
const GRANT_POLL_MS = 100;
/** …for at most this long after the wait began (an owner that never grants must not keep us polling). */
const GRANT_POLL_WINDOW_MS = 5_000;
/** A warm standby lost (before the grant) more often than this is given up: its lease is asked for cold. */
const STANDBY_MAX_LOSSES = 1;
/**
 * An asked standby waits at most this long for its grant. A live owner grants within its next round
 * (its runner stops first); a minute is far beyond that even in a 3,000-mailbox drain, so only an owner
 * stuck in a way its heartbeat does not show gets here.
 */
const STANDBY_MAX_ASKED_MS = 60_000;
/** The readiness gate held closed until the first lease round succeeded. */
const LEASES_GATE = 'leases';
/**
 * The share of CLUSTER_DRAIN_TIMEOUT_MS a hand-over's standby logins must fit in (HandoverPace): the
 * grants take the rest. Measured: a drain of 1,003 mailboxes over three takers at 30 logins/s each
 * (11 s of logins) had every lease moved after 16.7 s.
 */
const HANDOVER_LOGIN_BUDGET_SHARE = 0.5;

/**
 * running: lease rounds every interval. draining (SIGTERM): rounds that hand everything over, no runner
 * started. stopped: what was left was released.
 */
type SupervisorPhase = 'running' | 'draining' | 'stopped';

/** A runner and the lease epoch it writes under. */
interface RunningMailbox {
  runner: MailboxRunnerLike;
  epoch: number;
}

/**
 * Decides which mailboxes this listener runs. Every `SYNC_RECONCILE_INTERVAL_MS` it
 * 1. compares what the database wants (enabled IMAP and Graph mailboxes) with its runners when anything
 *    changed: runners of disabled or deleted mailboxes stop (a still existing one's `release` written
 *    while its lease is still held: see RunnerStopEvent), runners whose settings, password or token grant changed are replaced;
 * 2. runs one lease round (LeaseKeeper): this replica's share by rendezvous hashing, taking free and dead
 *    replicas' leases, asking live owners for the rest — for an IMAP mailbox only once this replica's
 *    standby session for it listens (WarmStandbys: login, EXAMINE, IDLE, nothing written), so the owner
 *    keeps listening until the taker does too;
 * 3. runs a runner exactly for each lease it holds, under that lease's epoch: a lease lost (taken over)
 *    stops its runner at once without a status write (the new owner reports); a lease another replica
 *    asked for is handed over make-before-break: the runner stops (its last delivery written, a Graph
 *    subscription kept at Graph), then the lease is granted; a lease granted to this replica (or taken
 *    from a dead owner) while a standby listened activates that standby, which catches up from the
 *    cursor on its open session; mailboxes asked to resync reconnect.
 * A write refused by the lease fence stops that runner at once. On shutdown it drains: the others take
 * its mailboxes, and what nobody took within CLUSTER_DRAIN_TIMEOUT_MS is released (state `pending`).
 */
@Injectable()
export class MailboxSupervisor implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(MailboxSupervisor.name);
  private readonly runners = new Map<string, RunningMailbox>();
  /**
   * At most `SYNC_CONNECT_CONCURRENCY` connection attempts in progress at once (all hosts), so 10,000
   * mailboxes starting together queue here instead of in the database pool (where waiters time out after
   * 30 s and fail their attempt); the per-host ramps pace how fast they start. A hand-over is not urgent
   * (the owner listens): standby logins have their own, slower ramp and leave the server room for its pushes.
   */
  private readonly connectGate: ConnectGate;
  /** LISTENER_HEAP_GROWTH_PERCENT, set once the first connects are done (the gate quiet). */
  private readonly heapGrowth: HeapGrowthOnceSettled;
  private readonly handoverPace: HandoverPace;
  private readonly imapDependencies: Omit<ImapRunnerDependencies, 'lease'>;
  private readonly graphDependencies: Omit<GraphRunnerDependencies, 'lease'>;
  private timer?: NodeJS.Timeout;
  private reconciling?: Promise<void>;
  /** The work on runners in progress or queued: passes and control messages' work run one at a time. */
  private serial: Promise<unknown> = Promise.resolve();
  private phase: SupervisorPhase = 'running';
  private lastVersion: string | null = null;
  private lastFullReload = 0;
  /** What the database wants, as last loaded. */
  private desired = new Map<string, DesiredMailbox>();
  /** Its ids: the same array instance while the set is unchanged (LeaseKeeper caches the assignment by identity). */
  private desiredIds: readonly string[] = [];
  /** The leases held after the last round, by mailbox id (epoch). */
  private held = new Map<string, number>();
  /** Since when the lease rounds have been waiting for grants (null: not waiting). */
  private waitingSince: number | null = null;
  /** When the scheduled pass runs (its timer's due time). */
  private nextPassAt = 0;
  /** Make-before-break, the taker's side: standby sessions of the IMAP mailboxes this replica waits for. */
  private readonly standbys: WarmStandbys<ImapMailboxRunner>;

  constructor(
    private readonly specs: MailboxSpecsLoader,
    private readonly mailboxes: MailboxSpecRepository,
    private readonly metrics: SyncMetrics,
    private readonly reporter: MailboxStateReporter,
    private readonly keeper: LeaseKeeper,
    private readonly replicas: ReplicaRegistry,
    private readonly clusterMetrics: ClusterMetrics,
    credentials: MailboxCredentials,
    cursors: FolderCursorRepository,
    events: MailEventsPublisher,
    subscriptions: GraphSubscriptionRepository,
    @Inject(CLOCK) clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    outbound: OutboundPolicy,
    ownSentCopies: OwnSentCopyRepository,
    @Optional() private readonly gates?: ReadinessGates,
  ) {
    this.connectGate = new ConnectGate(config.listener.connectConcurrency, {
      live: new ConnectRamp(config.listener.connectRatePerHost),
      standby: new ConnectRamp(config.listener.handoverConnectRatePerHost),
    });
    this.heapGrowth = new HeapGrowthOnceSettled(config.listener.heapGrowthPercent);
    this.handoverPace = new HandoverPace(config.listener.handoverConnectRatePerHost, HANDOVER_LOGIN_BUDGET_SHARE * config.cluster.drainTimeoutMs);
    const shared: Omit<RunnerDependencies, 'lease'> = {
      reporter,
      credentials,
      cursors,
      events,
      metrics,
      connectGate: this.connectGate,
      clock,
      outbound,
      onFencedOut: (mailboxId, error) => this.fencedOut(mailboxId, error),
    };
    this.imapDependencies = {
      ...shared,
      authDisableAfterMs: config.listener.authDisableAfterMs,
      safetySweepMs: config.listener.safetySweepMs,
      disableMailbox: (id) => mailboxes.disable(id),
      ownSentCopies,
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
    this.standbys = new WarmStandbys({
      limit: config.listener.connectConcurrency,
      maxLosses: STANDBY_MAX_LOSSES,
      maxAskedMs: STANDBY_MAX_ASKED_MS,
      warm: (spec, listener) => new ImapMailboxRunner(spec, { ...this.imapDependencies, lease: { owner: this.me, epoch: NO_LEASE_EPOCH } }).standBy(listener),
      onReady: () => this.roundSoon(),
      count: (outcome, by = 1) => metrics.warmStandbys.inc({ outcome }, by),
    });
    metrics.graphSubscriptionSource = () => this.countGraphSubscriptions();
    this.gates?.close(LEASES_GATE, 'no lease round has succeeded yet');
  }

  private get me(): string {
    return this.config.listener.id;
  }

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  /**
   * SIGTERM (or app.close()): drain while the heartbeat, the database and Redis are still up (they close
   * in onApplicationShutdown, after this). The others take this replica's mailboxes make-before-break;
   * whatever is still held when that is done, or CLUSTER_DRAIN_TIMEOUT_MS passed, is released.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.phase !== 'running') return;
    this.phase = 'draining';
    clearTimeout(this.timer);
    await this.reconciling;
    await this.serial;
    // A draining replica takes nothing: its standbys close.
    await this.standbys.closeAll();
    const started = Date.now();
    const { outcome, error } = await drainLeases(
      {
        markDraining: () => this.replicas.markDraining(this.me),
        othersCanTake: async () => (await this.replicas.liveMembers(this.config.cluster.leaseTtlMs)).some((member) => member.id !== this.me && member.state === 'live'),
        round: async () => {
          await this.reconcile();
          return this.held.size;
        },
      },
      { timeoutMs: this.config.cluster.drainTimeoutMs, roundEveryMs: GRANT_POLL_MS },
    );
    const left = this.held.size;
    const why = { handed_over: 'every mailbox handed over', alone: 'no other live replica to hand to', timed_out: 'drain timeout reached', failed: `drain failed: ${errorMessage(error)}` }[outcome];
    const drained = `Drained in ${Date.now() - started} ms (${why}); releasing ${left} mailbox(es) still held`;
    // Released mailboxes go without a session until another replica logs in to them cold: the drain
    // timeout was shorter than the takers' logins for this replica's share.
    if (outcome === 'timed_out' && left > 0) {
      this.logger.warn(`${drained}: each goes without a listening session until another replica logs in to it. To hand every mailbox over make-before-break, raise CLUSTER_DRAIN_TIMEOUT_MS to two to two and a half times the time the mail server takes to log in this many sessions while mail arrives (hand-overs took 1.5–2.4 × that in bench:failover), and the orchestrator's grace period above that`);
    } else this.logger.log(drained);
    await this.releaseAll();
  }

  async onApplicationShutdown(): Promise<void> {
    // Normally done by beforeApplicationShutdown already.
    if (this.phase === 'running') await this.beforeApplicationShutdown();
  }

  runner(mailboxId: string): MailboxRunnerLike | undefined {
    return this.runners.get(mailboxId)?.runner;
  }

  /** The IMAP runner of a mailbox this listener runs. */
  imapRunner(mailboxId: string): ImapMailboxRunner | undefined {
    const runner = this.runner(mailboxId);
    return runner instanceof ImapMailboxRunner ? runner : undefined;
  }

  /** The Graph runner of a mailbox this listener runs (notifications are routed to it). */
  graphRunner(mailboxId: string): GraphMailboxRunner | undefined {
    const runner = this.runner(mailboxId);
    return runner instanceof GraphMailboxRunner ? runner : undefined;
  }

  private newRunner(spec: MailboxSpec, epoch: number): MailboxRunnerLike {
    const lease = { owner: this.me, epoch };
    return spec.kind === 'graph' ? new GraphMailboxRunner(spec, { ...this.graphDependencies, lease }) : new ImapMailboxRunner(spec, { ...this.imapDependencies, lease });
  }

  private countGraphSubscriptions(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const { runner } of this.runners.values()) {
      if (!(runner instanceof GraphMailboxRunner)) continue;
      for (const state of runner.subscriptionStates()) counts.set(state, (counts.get(state) ?? 0) + 1);
    }
    return counts;
  }

  /** One pass: the database's wishes (when changed; `force`: anyway), one lease round, runners to match. */
  async reconcile(force = false): Promise<LeaseRound> {
    const fresh = await this.loadDesired(force);
    const round = await this.keeper.round(this.desiredIds, this.phase !== 'running', { mayAsk: (id) => this.mayAsk(id) });
    this.gates?.open(LEASES_GATE);
    await this.follow(round, fresh);
    this.heapGrowth.observe(this.connectGate.pending);
    this.metrics.owned.set(this.runners.size);
    return round;
  }

  /**
   * Reloads what the database wants when anything it depends on changed (the cheap version query; a full
   * pass at least every FULL_RELOAD_MS). Runners of mailboxes no longer wanted stop here, before the lease
   * round gives their leases back, so the state they move to is written under the lease; runners whose
   * settings changed stop too, and the lease's next runner starts with the new ones. True when reloaded.
   */
  private async loadDesired(force: boolean): Promise<boolean> {
    const version = await this.mailboxes.version();
    if (!force && version === this.lastVersion && Date.now() - this.lastFullReload < FULL_RELOAD_MS) return false;
    this.lastVersion = version;
    this.lastFullReload = Date.now();
    const desired = await this.specs.desired();
    this.desired = desired;
    if (this.desiredIds.length !== desired.size || this.desiredIds.some((id) => !desired.has(id))) this.desiredIds = [...desired.keys()];
    for (const id of await this.stopOutdated([...this.runners.keys()], desired)) this.reporter.forget(id);
    return true;
  }

  /**
   * Stops, together, the runners among `ids` whose mailbox `wanted` no longer names (`unwanted`: its
   * `release` written while the mailbox still exists, see RunnerStopEvent; a deleted one's nothing) or
   * names with other settings, password or token grant (replaced: the lease's next runner starts with
   * the new ones). One at a time, a provider that stopped loading mail took ~100 ms per mailbox (a LOGOUT
   * and a status write each). Returns the ids of those no longer wanted.
   */
  private async stopOutdated(ids: string[], wanted: ReadonlyMap<string, DesiredMailbox>): Promise<string[]> {
    const unwanted = ids.filter((id) => !wanted.has(id));
    const existing = await this.mailboxes.existing(unwanted);
    // Picked and taken out of the map with nothing awaited in between: a runner the fence stopped while
    // `existing` was asked (fencedOut, outside the serial work) is gone from the map, not stopped twice.
    const outdated = ids.flatMap((id) => {
      const running = this.runners.get(id);
      return running && wanted.get(id)?.spec.fingerprint !== running.runner.spec.fingerprint ? [{ id, runner: running.runner }] : [];
    });
    for (const { id } of outdated) this.runners.delete(id);
    await Promise.all(outdated.map(({ id, runner }) => this.stopRunner(id, runner, wanted.has(id) ? null : existing.has(id) ? 'unwanted' : null, { replaced: wanted.has(id) })));
    return unwanted;
  }

  /** Runs exactly the mailboxes the round left this replica holding, each under its lease's epoch. */
  private async follow(round: LeaseRound, fresh: boolean): Promise<void> {
    this.held = round.held;
    // Lost (taken over while this replica was silent, or its lease went with the mailbox), or held again
    // under a newer epoch: stop at once, writing nothing; the new owner reports.
    const lost = [...this.runners].filter(([id, { epoch }]) => round.held.get(id) !== epoch);
    for (const [id] of lost) {
      this.runners.delete(id);
      this.reporter.forget(id);
    }
    if (lost.length > 0) this.logger.log(`${lost.length} mailbox(es) no longer held under their runner's lease: stopping them`);
    // A lease also goes with its mailbox's row: deleted after this pass read the mailbox list, such a
    // mailbox's runner stops as deleted (its Graph subscriptions removed), not as handed over.
    const stillThere = await this.mailboxes.existing(lost.map(([id]) => id));
    await Promise.all(lost.map(([id, { runner }]) => this.stopRunner(id, runner, null, { handover: stillThere.has(id) })));
    await Promise.all(round.handOver.map((lease) => this.handOver(lease)));
    this.waitingSince = round.waiting > 0 ? (this.waitingSince ?? Date.now()) : null;
    // A draining replica starts nothing: it is handing over.
    if (this.phase !== 'running') return;
    for (const [id, epoch] of round.held) {
      const wanted = this.desired.get(id);
      if (!wanted) continue;
      // The status read with the specs is recent only when they were loaded in this pass.
      await this.run(id, wanted, epoch, fresh);
    }
    const waitingImap = round.wanting.flatMap((id) => {
      const spec = this.desired.get(id)?.spec;
      return spec?.kind === 'imap' ? [spec] : [];
    });
    this.connectGate.setRate('standby', this.handoverPace.rateFor(this.standbys.loginsAhead(waitingImap), round.peerDraining));
    await this.standbys.follow(waitingImap);
  }

  /**
   * Whether a lease round may ask a live owner for this mailbox now: an IMAP mailbox once its standby
   * session listens (or warming gave up), so the owner keeps listening until this replica does too. A
   * Graph mailbox has no session to open first (its delta catches up from the stored deltaLink): at once.
   */
  private mayAsk(mailboxId: string): boolean {
    return this.desired.get(mailboxId)?.spec.kind !== 'imap' || this.standbys.mayAsk(mailboxId);
  }

  /** A standby became ready: a lease round within GRANT_POLL_MS asks for its mailbox, and the rounds poll for the grant. */
  private roundSoon(): void {
    if (this.phase !== 'running') return;
    this.waitingSince = Date.now();
    // A pass running now (its timer fired: nextPassAt is past) schedules the next one by nextDelay(), which polls again.
    if (this.nextPassAt > Date.now() + GRANT_POLL_MS) this.schedule(GRANT_POLL_MS);
  }

  /**
   * Another replica asked for this mailbox (rebalance, or this one drains): the runner stops first — its
   * last delivery written, no status write, a Graph subscription kept at Graph — and only then the lease
   * goes, with a new epoch, so the taker starts from exactly where this runner left the cursors.
   */
  private async handOver(lease: LeaseToHandOver): Promise<void> {
    const running = this.runners.get(lease.mailboxId);
    if (running) {
      this.runners.delete(lease.mailboxId);
      await this.stopRunner(lease.mailboxId, running.runner, null, { handover: true });
    }
    this.reporter.forget(lease.mailboxId);
    this.held.delete(lease.mailboxId);
    // Not granted: the replica that asked is gone; the lease stays here and the next round runs it again.
    if (!(await this.keeper.grant(lease))) this.logger.log(aboutMailbox(lease.mailboxId), `Mailbox ${lease.mailboxId}: ${lease.to} asked for it but is gone; keeping it`);
  }

  /** A runner's write was refused by the lease fence: counted, and the runner stops at once without another write. */
  private fencedOut(mailboxId: string, error: FencedOutError): void {
    this.refused(mailboxId, error);
    const running = this.runners.get(mailboxId);
    // Counted either way; a runner already stopped (an older epoch's) has nothing left to stop.
    if (!running || running.epoch !== error.fence.epoch) {
      this.logger.warn(aboutMailbox(mailboxId), `Mailbox ${mailboxId}: ${error.message} (its runner had already stopped)`);
      return;
    }
    this.logger.warn(aboutMailbox(mailboxId), `Mailbox ${mailboxId}: ${error.message}; stopping its runner`);
    this.runners.delete(mailboxId);
    this.reporter.forget(mailboxId);
    if (running.runner.spec.kind !== 'graph') {
      void this.stopRunner(mailboxId, running.runner, null, { handover: true });
      return;
    }
    // A Graph runner's lease may have gone with its mailbox's row (deleted, the pass not there yet): then it
    // stops as deleted, its subscriptions removed at Graph (nobody else would: their rows went too), as
    // follow() stops a lost one; otherwise as handed over, the subscription kept for the new owner.
    void this.mailboxes
      .existing([mailboxId])
      .then((there) => there.has(mailboxId), () => true)
      .then((handover) => this.stopRunner(mailboxId, running.runner, null, { handover }));
  }

  /** A write under a mailbox's lease was refused: counted, and neither this supervisor nor its keeper holds that lease any more. */
  private refused(mailboxId: string, error: FencedOutError): void {
    this.clusterMetrics.fencedWrite();
    this.keeper.refused(mailboxId, error.fence.epoch);
    if (this.held.get(mailboxId) === error.fence.epoch) this.held.delete(mailboxId);
  }

  /** Stops a runner; a status write it makes on the way that the fence refuses is counted, anything else logged. */
  private async stopRunner(mailboxId: string, runner: MailboxRunnerLike, event: RunnerStopEvent, options: RunnerStopOptions = {}): Promise<void> {
    try {
      await runner.stop(event, options);
    } catch (error) {
      if (isFencedOut(error)) {
        this.refused(mailboxId, error);
        this.logger.warn(aboutMailbox(mailboxId), `Mailbox ${mailboxId}: ${error.message} (while its runner stopped)`);
      } else this.logger.warn(aboutMailbox(mailboxId), `Mailbox ${mailboxId}: stopping failed: ${errorMessage(error)}`);
    }
  }

  /**
   * The end of a drain (or a stop): every runner still here stops with state `pending` (written under its
   * lease, still held), then every lease still held goes back, free for anyone at once.
   */
  private async releaseAll(): Promise<void> {
    this.phase = 'stopped';
    // Attempts still waiting for their turn are dropped: every runner stops now.
    this.connectGate.close();
    const running = [...this.runners];
    this.runners.clear();
    await Promise.all(running.map(([id, { runner }]) => this.stopRunner(id, runner, 'release')));
    try {
      // A last look at what is held (a failed round may have left `held` behind).
      const last = await this.keeper.round(this.desiredIds, true).catch(() => null);
      await this.keeper.releaseAll(last?.held ?? this.held);
    } catch (error) {
      this.logger.warn(`Releasing the leases failed (they lapse one lease time after the last heartbeat): ${errorMessage(error)}`);
    }
    this.held = new Map();
    this.metrics.owned.set(0);
  }

  /**
   * A control message from the API (Redis, fire-and-forget): the mailbox's owner acts on that mailbox at
   * once (its spec only, its lease and runner: see actOn) instead of at the next interval; the periodic
   * reconcile stays the safety net. The owner is the replica holding its lease; for a mailbox nobody here
   * holds (created, enabled, a new grant), the one the assignment names. Disabled and deleted mailboxes
   * concern only their holder. A provider's app-only token concerns the replicas running its mailboxes.
   * The others do nothing: every listener hears every message. True when this replica acted.
   */
  async onControl(message: ControlMessage): Promise<boolean> {
    if (this.phase !== 'running') return false;
    if (!('mailboxId' in message)) return this.onAppTokenChanged(message.providerId);
    const { kind, mailboxId } = message;
    const holds = this.held.has(mailboxId) || this.runners.has(mailboxId);
    if (!holds && (kind === 'disabled' || kind === 'deleted' || !(await this.assignedHere(mailboxId)))) return false;
    this.logger.log(aboutMailbox(mailboxId), `Mailbox ${mailboxId}: ${kind}; acting on it now`);
    await this.exclusively(() => this.actOn([mailboxId]));
    return true;
  }

  /** The mailboxes of the provider running here that sign in with its app-only token (its state is in their specs). */
  private async onAppTokenChanged(providerId: string): Promise<boolean> {
    const ids = [...this.runners].filter(([, { runner }]) => runner.spec.providerId === providerId && runner.spec.appOnly).map(([id]) => id);
    if (ids.length === 0) return false;
    this.logger.log(`Provider ${providerId}: app-only token changed; acting on its ${ids.length} mailbox(es) here now`);
    await this.exclusively(() => this.actOn(ids));
    return true;
  }

  /**
   * A control message's work, on these mailboxes only (their specs read, nothing else): what a pass would
   * do to them. A runner of a mailbox no longer wanted stops (`unwanted`: its
   * `release` written under its lease if the mailbox is still there) and its lease goes back; one whose settings, password or token changed is
   * replaced; a wanted mailbox without a lease here takes it if it is free (created, enabled: one held by
   * a live replica is asked for by the next round) and its runner starts; a resync request reconnects.
   */
  private async actOn(mailboxIds: string[]): Promise<void> {
    if (this.phase !== 'running') return;
    const fresh = await this.specs.desired(mailboxIds);
    const gone = mailboxIds.filter((id) => !fresh.has(id));
    await this.stopOutdated(mailboxIds, fresh);
    const wantedBefore = new Set(mailboxIds.filter((id) => this.desired.has(id)));
    for (const id of gone) {
      this.reporter.forget(id);
      this.desired.delete(id);
    }
    for (const [id, wanted] of fresh) this.desired.set(id, wanted);
    // A new array only when the set changed (LeaseKeeper recomputes the assignment when it gets one).
    if (mailboxIds.some((id) => wantedBefore.has(id) !== this.desired.has(id))) this.desiredIds = [...this.desired.keys()];

    const released = gone.flatMap((id) => (this.held.has(id) ? [{ mailboxId: id, epoch: this.held.get(id)! }] : []));
    for (const { mailboxId } of released) this.held.delete(mailboxId);
    await this.keeper.release(released);
    for (const [id, epoch] of await this.keeper.take([...fresh.keys()].filter((id) => !this.held.has(id)))) this.held.set(id, epoch);

    for (const [id, wanted] of fresh) {
      const epoch = this.held.get(id);
      if (epoch === undefined) continue;
      await this.run(id, wanted, epoch, true);
    }
    this.metrics.owned.set(this.runners.size);
  }

  /**
   * A held mailbox runs under `epoch`: a standby that listened while the lease was asked for (granted, or
   * taken from a dead owner) catches up on its open sessions, else a new runner starts; a running one
   * reconnects when a resync was asked for. `seedStatus`: the status read with the spec is recent.
   */
  private async run(id: string, wanted: DesiredMailbox, epoch: number, seedStatus: boolean): Promise<void> {
    const running = this.runners.get(id);
    if (!running) {
      if (seedStatus && wanted.status) this.reporter.seed(id, wanted.status);
      const standby = this.standbys.take(id);
      if (standby && standby.spec.fingerprint === wanted.spec.fingerprint) {
        this.runners.set(id, { runner: standby, epoch });
        void standby.activate({ owner: this.me, epoch });
      } else {
        if (standby) await this.stopRunner(id, standby, null);
        const runner = this.newRunner(wanted.spec, epoch);
        this.runners.set(id, { runner, epoch });
        runner.start();
      }
    } else if (wanted.resyncRequestedAt) {
      this.logger.log(aboutMailbox(id), `Mailbox ${id}: resync requested`);
      void running.runner.restart();
    }
    if (wanted.resyncRequestedAt) {
      await this.mailboxes.clearResync(id, wanted.resyncRequestedAt);
      wanted.resyncRequestedAt = null;
    }
  }

  /** Runs `work` after the passes and control messages' work queued before it (they change the runners). */
  private exclusively<T>(work: () => Promise<T>): Promise<T> {
    const run = this.serial.then(work, work);
    this.serial = run.catch(() => undefined);
    return run;
  }

  /**
   * Whether the assignment gives this mailbox to this replica. Without the LISTENER_MAX_MAILBOXES cap
   * the rendezvous owner of one mailbox needs only the live replicas; with it, the full assignment is
   * the lease round's business, so any replica under its cap may look (its lease round takes only its share).
   */
  private async assignedHere(mailboxId: string): Promise<boolean> {
    const members = await this.replicas.liveMembers(this.config.cluster.leaseTtlMs);
    const candidates = members.filter((member) => member.state === 'live').map((member) => member.id);
    if (this.config.listener.maxMailboxes) return candidates.includes(this.me);
    return rendezvousOwner(mailboxId, candidates) === this.me;
  }

  /** The next pass: soon while waiting for grants (for a while), else after the reconcile interval. */
  private schedule(delay: number): void {
    if (this.phase !== 'running') return;
    clearTimeout(this.timer);
    this.nextPassAt = Date.now() + delay;
    this.timer = setTimeout(() => {
      this.reconciling = this.exclusively(() => this.reconcile())
        .then(() => undefined)
        .catch((error: unknown) => this.logger.error(`Reconcile failed: ${errorMessage(error)}`))
        .finally(() => this.schedule(this.nextDelay()));
    }, delay);
    this.timer.unref();
  }

  private nextDelay(): number {
    const interval = this.config.listener.reconcileIntervalMs;
    if (this.waitingSince !== null && Date.now() - this.waitingSince < GRANT_POLL_WINDOW_MS) return Math.min(interval, GRANT_POLL_MS);
    return interval;
  }
}
