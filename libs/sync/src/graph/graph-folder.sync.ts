import { createHash, randomBytes } from 'node:crypto';
import { MailboxLogger } from '@app/logging';
import { withTimeout } from '@app/async';
import { MailboxRef, MailEventsPublisher } from '@app/events';
import { GraphMailboxClient, GraphMessage, GraphNotificationItem, hashClientState, isGraphApiError, receivedMessageOfGraph } from '@app/graph';
import { Clock } from '@app/clock';
import { isFencedOut, LeaseFence } from '@app/cluster';
import { FolderCursorRepository } from '../folder-cursor.repository';
import { graphDeltaReset, graphMailReceived } from '../mailbox-events';
import { publishReceived } from '../publish-received';
import { MailboxStateReporter } from '../mailbox-state.reporter';
import { SyncMetrics } from '../sync.metrics';
import { GraphSubscriptionEvent, GraphSubscriptionState, nextGraphSubscriptionState } from './graph-subscription-state';
import { GraphSubscriptionRepository } from './graph-subscription.repository';
import { errorMessage } from '@app/failures';

export interface GraphPushUrls {
  notificationUrl: string;
  lifecycleNotificationUrl: string;
}

/** The cursor reads and writes a Graph folder makes (the seam tests put a double of the repository in). */
export type GraphFolderCursors = Pick<FolderCursorRepository, 'loadGraph' | 'saveGraph' | 'clearDeltaLink'>;

export interface GraphFolderSyncDependencies {
  client: GraphMailboxClient;
  mailbox: MailboxRef;
  cursors: GraphFolderCursors;
  subscriptions: GraphSubscriptionRepository;
  events: MailEventsPublisher;
  reporter: MailboxStateReporter;
  metrics: SyncMetrics;
  clock: Clock;
  /** The lease every cursor and subscription-row write is fenced by. */
  lease: LeaseFence;
  /** null: no PUBLIC_BASE_URL, Graph cannot call us — poll by delta instead. */
  push: GraphPushUrls | null;
  subscriptionMinutes: number;
  safetyDeltaMs: number;
  pollIntervalMs: number;
  /** First subscription only: publish mail received since then instead of starting from "now". */
  backfillSince: Date | null;
  /** Something in the background failed (renewal, a delta round): the runner reconnects with backoff. */
  onFailure(error: unknown): void;
  /** This folder's renewal is starting: the runner lets the mailbox's other folders due soon join it (one $batch). */
  onRenewalDue?(): void;
}

/** Renew when this share of the subscription's lifetime is left (Graph drops expired ones silently). */
const RENEW_AT_REMAINING = 0.25;
/** Renewal instants fall on whole minutes (or 1 % of a shorter lifetime). */
const RENEW_ALIGN_MS = 60_000;
/** After a delta reset, take the new baseline from this long before the last good round (events dedupe by id). */
const RESET_OVERLAP_MS = 10 * 60_000;
/** Closing waits this long at most for a subscription change in flight. */
const CLOSE_WAIT_MS = 5_000;

/**
 * Follows one Microsoft Graph mail folder: a change-notification subscription (created, renewed before
 * it expires, recreated when Graph removes it, deleted when the mailbox goes), and delta rounds from the
 * stored deltaLink — on open (catch-up or first baseline), on every notification, on lifecycle events, on
 * a safety timer, or on a polling timer when Graph cannot reach us. Notifications only trigger rounds:
 * what is published always comes from delta, so a lost, late, replayed or forged push cannot lose or
 * duplicate mail. Rounds never overlap; a trigger during a round (also during open) runs one more round
 * after it. Subscription changes (create, renew, reauthorize, recreate) run one at a time, and lifecycle
 * events naming a subscription that is no longer the folder's current one change nothing.
 */
export class GraphFolderSync {
  private readonly logger: MailboxLogger;
  private subscriptionState: GraphSubscriptionState = 'none';
  private subscription: { id: string; expiresAt: Date } | null = null;
  private remoteFolderId: string | null = null;
  private renewTimer?: NodeJS.Timeout;
  private periodicTimer?: NodeJS.Timeout;
  /** When the renewal is due by the clock (the safety timer renews if the renewal timer fired late or not at all). */
  private renewDueAt: number | null = null;
  private running = false;
  /** The part of open() before the first round: closing waits for it (bounded). */
  private preparing: Promise<void> | null = null;
  /** The delta rounds in progress: closing waits for them (bounded), so a hand-over finds the delta link they stored. */
  private roundsInFlight: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private lastNotificationWrite = 0;
  /** Subscription changes, one after the other (a renewal and a lifecycle event must not both create one). */
  private subscriptionWork: Promise<void> = Promise.resolve();

  constructor(
    readonly folder: { id: string; path: string },
    private readonly deps: GraphFolderSyncDependencies,
  ) {
    this.logger = new MailboxLogger(deps.mailbox.id, `Mailbox ${deps.mailbox.id} ${folder.path}`, { folder: folder.path });
  }

  get state(): GraphSubscriptionState {
    return this.subscriptionState;
  }

  get subscriptionId(): string | null {
    return this.subscription?.id ?? null;
  }

  /**
   * Resolves the folder, makes sure a subscription is live, and catches up. Resolves once listening.
   * Notifications arriving meanwhile (the runner routes them to opening folders too) run one more round.
   */
  async open(): Promise<void> {
    // Closed before it opened (the runner stopped while it refreshed its token first): close() had nothing
    // to wait for and the lease may be granted already, so nothing may be read for a write or written now.
    if (this.closed) return;
    // Counts as a round in progress from the start: a notification now must wait for (and follow) the first round.
    this.running = true;
    const preparing = this.prepare();
    this.preparing = preparing;
    try {
      await preparing;
    } catch (error) {
      this.running = false;
      throw error;
    } finally {
      this.preparing = null;
    }
    if (this.closed) {
      this.running = false;
      return;
    }
    await this.rounds();
    this.schedulePeriodic();
  }

  /** Resolves the folder, stores where it starts, and makes sure a subscription is live (or polling is set up). */
  private async prepare(): Promise<void> {
    const startedAt = new Date(this.deps.clock.now());
    const cursor = await this.deps.cursors.loadGraph(this.folder.id);
    this.remoteFolderId = cursor.remoteFolderId ?? (await this.deps.client.resolveFolder(this.folder.path)).id;
    const mode = this.deps.push ? 'push' : 'polling';
    // No link yet: the first round is a baseline of mail received since now (or backfillSince). The instant
    // is stored before anything else, so a retry or a restart before that round completes starts from it.
    const baselineAt = cursor.deltaLink ? null : (cursor.baselineAt ?? this.deps.backfillSince ?? startedAt);
    await this.deps.cursors.saveGraph(this.folder.id, this.deps.mailbox.id, { remoteFolderId: this.remoteFolderId, deltaLink: null, mode, baselineAt }, this.deps.lease);
    if (this.deps.push) await this.serialized(() => this.ensureSubscription());
    else {
      this.transition('poll');
      // Subscriptions of an earlier run with PUBLIC_BASE_URL would keep calling an endpoint nobody reads.
      for (const stale of await this.deps.subscriptions.forFolder(this.folder.id)) await this.dropSubscription(stale.subscriptionId);
    }
  }

  /**
   * Stops timers; `deleteSubscription` (mailbox disabled or deleted) also removes it at Graph. Resolves
   * with the id of the subscription kept at Graph (for whoever runs the folder next), if any.
   */
  async close(deleteSubscription: boolean): Promise<string | null> {
    this.closed = true;
    clearTimeout(this.renewTimer);
    clearTimeout(this.periodicTimer);
    // An open in progress writes its starting point and subscription rows: let it finish (bounded), so that
    // none of its writes lands after the mailbox was handed over.
    if (this.preparing) await withTimeout(this.preparing, CLOSE_WAIT_MS).catch(() => undefined);
    // Let a subscription change in flight finish (a bounded wait: Graph may be hanging), so that whoever
    // runs the folder next sees its outcome; one created after this point deletes itself (see create()).
    await withTimeout(this.subscriptionWork, CLOSE_WAIT_MS).catch(() => undefined);
    // Likewise a delta round that published and is about to store its link: the next owner starts from that link.
    if (this.roundsInFlight) await withTimeout(this.roundsInFlight, CLOSE_WAIT_MS).catch(() => undefined);
    const subscription = this.subscription;
    this.subscription = null;
    this.transition('close');
    if (!subscription) return null;
    if (!deleteSubscription) return subscription.id;
    await deleteGraphSubscription(this.deps, subscription.id, this.logger);
    return null;
  }

  /** A notification or lifecycle event for this folder arrived through the API. */
  onNotification(item: GraphNotificationItem): void {
    if (this.closed) return;
    this.recordNotification(item.subscriptionId);
    if (item.kind === 'change') return this.requestDelta();
    switch (item.lifecycleEvent) {
      case 'missed':
        return this.requestDelta();
      case 'reauthorizationRequired':
        return this.background(() => this.serialized(() => this.reauthorize(item.subscriptionId)));
      case 'subscriptionRemoved':
        return this.background(() => this.serialized(() => this.recreate(item.subscriptionId)));
    }
  }

  /** Runs a delta round now, or right after the one in progress. */
  requestDelta(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.background(() => this.rounds());
  }

  /** Delta rounds until no trigger came in during the last one (the caller has set `running`). */
  private rounds(): Promise<void> {
    const rounds = this.runRounds();
    this.roundsInFlight = rounds;
    return rounds;
  }

  private async runRounds(): Promise<void> {
    try {
      do {
        this.again = false;
        if (this.closed) break;
        await this.deltaRound();
      } while (this.again);
    } finally {
      this.running = false;
      this.roundsInFlight = null;
    }
  }

  /** Queues a subscription change after the ones in progress; skipped once the folder is closed. */
  private serialized(work: () => Promise<void>): Promise<void> {
    const next = this.subscriptionWork.then(() => (this.closed ? undefined : work()));
    this.subscriptionWork = next.catch(() => undefined);
    return next;
  }

  private background(work: () => Promise<void>): void {
    work().catch((error: unknown) => {
      if (!this.closed) this.deps.onFailure(error);
    });
  }

  // ---------------------------------------------------------------- subscriptions

  /** Keeps the newest stored subscription if Graph still has it (renewing it), else creates one. */
  private async ensureSubscription(): Promise<void> {
    const stored = await this.deps.subscriptions.forFolder(this.folder.id);
    const [newest, ...older] = stored;
    for (const stale of older) await this.dropSubscription(stale.subscriptionId);
    if (newest && newest.expiresAt.getTime() > this.deps.clock.now() + 60_000) {
      this.subscription = { id: newest.subscriptionId, expiresAt: newest.expiresAt };
      this.transition('adopt');
      if (await this.renew()) return;
    } else if (newest) {
      await this.deps.subscriptions.remove(newest.subscriptionId, this.deps.mailbox.id, this.deps.lease);
    }
    await this.create();
  }

  private async create(): Promise<void> {
    const push = this.deps.push!;
    this.transition('create');
    const clientState = randomBytes(32).toString('base64url');
    try {
      const created = await this.deps.client.createSubscription({
        folderId: this.remoteFolderId!,
        notificationUrl: push.notificationUrl,
        lifecycleNotificationUrl: push.lifecycleNotificationUrl,
        expirationDateTime: this.expiry(),
        clientState,
      });
      if (this.closed) {
        // Nobody runs this folder any more (the mailbox stopped while Graph was validating our endpoint).
        await this.deps.client.deleteSubscription(created.id).catch(() => undefined);
        return;
      }
      await this.deps.subscriptions
        .insert(
          {
            subscriptionId: created.id,
            folderId: this.folder.id,
            mailboxId: this.deps.mailbox.id,
            clientStateHash: hashClientState(clientState),
            resource: created.resource,
            expiresAt: created.expirationDateTime,
          },
          this.deps.lease,
        )
        .catch(async (error: unknown) => {
          // Another replica holds the mailbox now and runs its own subscription: this one would only notify in vain.
          if (isFencedOut(error)) await this.deps.client.deleteSubscription(created.id).catch(() => undefined);
          throw error;
        });
      this.subscription = { id: created.id, expiresAt: created.expirationDateTime };
      this.transition('created');
      this.logger.log(`Subscription ${created.id} created, expires ${created.expirationDateTime.toISOString()}`);
      this.scheduleRenewal();
    } catch (error) {
      this.transition('failed');
      throw error;
    }
  }

  /** PATCHes the expiry; false when Graph no longer has the subscription (the caller creates a new one). */
  private async renew(): Promise<boolean> {
    const subscription = this.subscription!;
    this.transition('renew');
    try {
      const renewed = await this.deps.client.renewSubscription(subscription.id, this.expiry());
      subscription.expiresAt = renewed.expirationDateTime;
      await this.deps.subscriptions.renewed(subscription.id, renewed.expirationDateTime, this.deps.mailbox.id, this.deps.lease);
      this.transition('renewed');
      this.scheduleRenewal();
      return true;
    } catch (error) {
      if (!isGraphApiError(error, 'not_found')) {
        this.transition('failed');
        throw error;
      }
      this.logger.warn(`Subscription ${subscription.id} is gone at Graph; creating a new one`);
      this.transition('removed');
      await this.deps.subscriptions.remove(subscription.id, this.deps.mailbox.id, this.deps.lease);
      this.subscription = null;
      return false;
    }
  }

  /**
   * Lifecycle `reauthorizationRequired`: renewing with a fresh token re-authorizes it (Graph asks again and
   * again until then: each ask is one renewal); notifications it held back are fetched by delta. An ask for
   * a subscription the folder no longer uses needs no answer: that one expires or is already gone.
   */
  private async reauthorize(subscriptionId: string): Promise<void> {
    if (this.subscription?.id !== subscriptionId) return;
    this.transition('reauthorization_required');
    if (!(await this.renew())) await this.create();
    this.requestDelta();
  }

  /**
   * Lifecycle `subscriptionRemoved`: a new subscription, then a delta for whatever arrived meanwhile. The
   * same event again (Graph retries, a replay) names the removed subscription, not the new one: only its
   * row is forgotten.
   */
  private async recreate(subscriptionId: string): Promise<void> {
    await this.deps.subscriptions.remove(subscriptionId, this.deps.mailbox.id, this.deps.lease);
    if (this.subscription?.id === subscriptionId) {
      this.subscription = null;
      this.transition('removed');
      await this.create();
    }
    this.requestDelta();
  }

  private async dropSubscription(subscriptionId: string): Promise<void> {
    await this.deps.client.deleteSubscription(subscriptionId).catch(() => undefined);
    await this.deps.subscriptions.remove(subscriptionId, this.deps.mailbox.id, this.deps.lease);
  }

  private expiry(): Date {
    return new Date(this.deps.clock.now() + this.deps.subscriptionMinutes * 60_000);
  }

  private scheduleRenewal(): void {
    clearTimeout(this.renewTimer);
    this.renewDueAt = null;
    if (!this.subscription || this.closed) return;
    const lifetime = this.deps.subscriptionMinutes * 60_000;
    // Spread over 5 % of the lifetime per mailbox (not per folder), then down to a whole step: the folders
    // of a mailbox whose subscriptions were made or renewed together come due at the same instant, and the
    // client sends those renewals as one $batch.
    const step = Math.min(RENEW_ALIGN_MS, lifetime / 100);
    const spread = mailboxSpread(this.deps.mailbox.id) * lifetime * 0.05;
    const due = Math.floor((this.subscription.expiresAt.getTime() - lifetime * RENEW_AT_REMAINING - spread) / step) * step;
    this.renewDueAt = due;
    const delay = Math.max(1_000, due - this.deps.clock.now());
    this.renewTimer = setTimeout(() => this.renewNow(), Math.min(delay, 2 ** 31 - 1));
    this.renewTimer.unref?.();
  }

  /** Renews the current subscription (a new one if Graph lost it), unless it was renewed or replaced meanwhile. */
  private renewNow(): void {
    const target = this.subscription;
    if (!target) return;
    const expiresAt = target.expiresAt.getTime();
    this.renewDueAt = null;
    this.deps.onRenewalDue?.();
    this.background(() =>
      this.serialized(async () => {
        if (this.subscription !== target || target.expiresAt.getTime() !== expiresAt) return;
        if (!(await this.renew())) {
          await this.create();
          this.requestDelta();
        }
      }),
    );
  }

  /** Renews now if the renewal would be due by `instant` (joining another folder's renewal: one $batch for both). */
  renewIfDueBy(instant: number): void {
    if (!this.closed && this.renewDueAt !== null && this.renewDueAt <= instant) this.renewNow();
  }

  /**
   * The renewal by the clock: a timer of days can fire late (a suspended host, a paused process), and the
   * clock is what Graph expires subscriptions by. Checked on every safety (or polling) tick.
   */
  private renewIfDue(): void {
    if (this.renewDueAt !== null && this.deps.clock.now() >= this.renewDueAt) this.renewNow();
  }

  private transition(event: GraphSubscriptionEvent): void {
    // A closed folder is 'none'; work that was in flight when it closed does not move it any more.
    if (this.closed && event !== 'close') return;
    this.subscriptionState = nextGraphSubscriptionState(this.subscriptionState, event);
  }

  private recordNotification(subscriptionId: string): void {
    const now = this.deps.clock.now();
    // One write per second per folder at most: a burst of 1,000 notifications is one row update.
    if (now - this.lastNotificationWrite < 1_000) return;
    this.lastNotificationWrite = now;
    void this.deps.subscriptions.notified([subscriptionId], new Date(now), this.deps.mailbox.id, this.deps.lease).catch(() => undefined);
  }

  // ---------------------------------------------------------------- delta

  private schedulePeriodic(): void {
    clearTimeout(this.periodicTimer);
    const every = this.deps.push ? this.deps.safetyDeltaMs : this.deps.pollIntervalMs;
    if (every <= 0 || this.closed) return;
    // Jitter so thousands of mailboxes opened together do not poll in the same second forever after.
    this.periodicTimer = setTimeout(() => {
      this.renewIfDue();
      this.requestDelta();
      this.schedulePeriodic();
    }, every * (0.9 + Math.random() * 0.2));
    this.periodicTimer.unref?.();
  }

  /**
   * One round from the stored deltaLink, or (none stored yet) a baseline of mail received since the stored
   * baseline instant: publishes every page's messages before fetching the next, and stores the new link
   * only at the end, so a crash mid-round replays the round (same event ids: nothing twice) instead of
   * skipping it.
   */
  private async deltaRound(): Promise<void> {
    const cursor = await this.deps.cursors.loadGraph(this.folder.id);
    const from = cursor.deltaLink ? { deltaLink: cursor.deltaLink } : { receivedSince: cursor.baselineAt ?? new Date(this.deps.clock.now()) };
    let round;
    try {
      round = await this.deps.client.delta(this.remoteFolderId!, from, (messages) => this.publish(messages));
    } catch (error) {
      if (!isGraphApiError(error, 'sync_reset') || !('deltaLink' in from)) throw error;
      const since = new Date((cursor.lastSyncedAt?.getTime() ?? this.deps.clock.now()) - RESET_OVERLAP_MS);
      this.logger.warn(`Graph forgot the delta state (${error.code}); new baseline from ${since.toISOString()}`);
      // Stored first: if the new baseline round fails, the next one starts from the same instant.
      await this.deps.cursors.clearDeltaLink(this.folder.id, this.deps.lease, since);
      await this.deps.events.publish(graphDeltaReset(this.deps.mailbox, this.folder.path, new Date(this.deps.clock.now())));
      this.deps.metrics.published.inc({ type: 'mailbox.resynced' });
      round = await this.deps.client.delta(this.remoteFolderId!, { receivedSince: since }, (messages) => this.publish(messages));
    }
    await this.deps.cursors.saveGraph(
      this.folder.id,
      this.deps.mailbox.id,
      { remoteFolderId: this.remoteFolderId!, deltaLink: round.deltaLink, mode: this.deps.push ? 'push' : 'polling', syncedAt: new Date(this.deps.clock.now()) },
      this.deps.lease,
    );
  }

  private async publish(messages: GraphMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const now = new Date(this.deps.clock.now());
    const batch = messages.map((message) => graphMailReceived(this.deps.mailbox, receivedMessageOfGraph(message, this.folder.path), now));
    const lag = await publishReceived(this.deps, batch);
    await this.deps.reporter.recordDelivery(this.deps.mailbox.id, now, lag, this.deps.lease);
  }
}

/** A fixed share in [0, 1) per mailbox: its renewals spread out from other mailboxes', not from each other. */
function mailboxSpread(mailboxId: string): number {
  return createHash('sha256').update(mailboxId).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * Deletes a subscription at Graph, then its row (a disabled or deleted mailbox's). A failure is only
 * logged: the subscription expires by itself within GRAPH_SUBSCRIPTION_MINUTES and its notifications are
 * dropped as unknown meanwhile.
 */
export async function deleteGraphSubscription(
  deps: Pick<GraphFolderSyncDependencies, 'client' | 'subscriptions' | 'mailbox' | 'lease'>,
  subscriptionId: string,
  logger: MailboxLogger,
): Promise<void> {
  await deps.client.deleteSubscription(subscriptionId).catch((error: unknown) => {
    logger.warn(`Deleting subscription ${subscriptionId} at Graph failed: ${errorMessage(error)}`);
  });
  await deps.subscriptions.remove(subscriptionId, deps.mailbox.id, deps.lease).catch(() => undefined);
}
