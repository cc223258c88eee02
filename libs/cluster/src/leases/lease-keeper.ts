import { performance } from 'node:perf_hooks';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { assignMailboxes } from '../assignment/rendezvous';
import { ClusterMetrics, TakeoverReason } from '../cluster.metrics';
import { ReplicaHeartbeat } from '../replica-heartbeat';
import { ReplicaRegistry } from '../replica-registry';
import { HeldLease, MailboxLeaseRepository } from './mailbox-lease.repository';

/** Every lease held is read again at least this often, whatever says none was lost (the safety net). */
export const FULL_LEASE_READ_MS = 60_000;

/** A lease this replica holds after a round: the runner of the mailbox writes under `epoch`. */
export interface LeaseToRun {
  mailboxId: string;
  epoch: number;
}

/** A held lease another live replica asked for: stop the mailbox's runner, then `grant` it. */
export interface LeaseToHandOver {
  mailboxId: string;
  epoch: number;
  to: string;
}

export interface LeaseRound {
  /** Every lease held after this round, by mailbox id: exactly the mailboxes this replica may run. */
  held: Map<string, number>;
  /** Held leases a live replica asked for (rebalance or this replica draining). */
  handOver: LeaseToHandOver[];
  /** Mailboxes this replica should own by the assignment but that nobody could give it yet. */
  waiting: number;
  /** Those mailboxes (a live replica holds each): the supervisor warms standbys for them before asking. */
  wanting: string[];
  /** Another replica is draining: what it still holds it releases at its drain timeout (HandoverPace hurries). */
  peerDraining: boolean;
}

export interface LeaseRoundOptions {
  /**
   * Whether the lease of a mailbox a live replica holds may be asked for now (make-before-break: only once
   * this replica's standby session for it listens). Default: every one.
   */
  mayAsk?: (mailboxId: string) => boolean;
}

/**
 * One round of lease work for one replica, run by the supervisor before it compares runners with the
 * database:
 * 1. the live, non-draining replicas and the enabled mailboxes give, by rendezvous hashing (with the
 *    LISTENER_MAX_MAILBOXES cap), the mailboxes this replica should own (none while it drains);
 * 2. it takes those whose lease is free or whose owner is dead (takeover `dead`);
 * 3. it asks the live owners of the others to hand them over — those `mayAsk` allows: the supervisor's
 *    standby session listens already — (make-before-break: the owner grants once
 *    its last delivery is written; the takeover is counted as `drain` or `rebalance` when the grant
 *    arrives);
 * 4. it reports the held leases others asked for, so the supervisor stops those runners and grants.
 * A lease this replica holds but should no longer own stays until its new owner asks for it: nobody is
 * left without a listener in between.
 *
 * What it holds it remembers from round to round (what it acquired, granted, released, and what others
 * granted it), so a round reads only the rows that need action (handoversOf: asks for its leases, answers
 * to its own asks), not its 10,000 leases. Another replica takes a lease only from a replica silent past
 * the lease time, so every held lease is read again when the heartbeat lapsed (ReplicaHeartbeat.lapsedSince),
 * after a failed round, and every FULL_LEASE_READ_MS anyway. Fencing never depends on this memory: every
 * write is checked against the lease in SQL.
 */
@Injectable()
export class LeaseKeeper {
  /** Mailboxes asked for and why, until the grant arrives (a replica's own memory; lost on restart: counted as rebalance). */
  private readonly asked = new Map<string, TakeoverReason>();
  /** The leases held (by mailbox id, epoch) after the last round, kept up to date by grant and release. */
  private known = new Map<string, number>();
  /** Mailboxes asked for whose answer may still come (a grant makes this replica the owner). */
  private requested = new Set<string>();
  /** `known` is what the database says: no round, grant or release failed and no write was refused (`refused`) since it was read. */
  private trusted = false;
  /**
   * Leases a write was refused under (epoch by mailbox id; see `refused`): no round answers them held
   * again, even one whose read began before the refusal. Forgotten after a full read that began after it.
   */
  private readonly refusedEpochs = new Map<string, number>();
  /** How many refusals were reported: a round during which one came ends untrusted. */
  private refusals = 0;
  /** performance.now() when the last full read of the held leases began. */
  private lastFullReadAt: number | null = null;
  /** Lease rows read so far, by kind of round (bench/lease-rounds, tests). */
  readonly reads = { fullRounds: 0, fullRows: 0, changeRounds: 0, changeRows: 0 };
  /** The last assignment: recomputed only when the replicas or the mailbox list change (100,000 × 10 costs ~0.3 s). */
  private assignment?: { replicas: string; mailboxes: readonly string[]; mine: string[] };
  private enabled?: { ids: readonly string[]; set: Set<string> };

  constructor(
    private readonly leases: MailboxLeaseRepository,
    private readonly replicas: ReplicaRegistry,
    private readonly metrics: ClusterMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    /** Absent (a keeper without a heartbeat of its own): every round reads every held lease. */
    @Optional() private readonly heartbeat?: ReplicaHeartbeat,
  ) {}

  private get me(): string {
    return this.config.listener.id;
  }

  async round(enabledMailboxIds: readonly string[], draining: boolean, options: LeaseRoundOptions = {}): Promise<LeaseRound> {
    const trusted = this.trusted;
    this.trusted = false;
    const refusalsAtStart = this.refusals;
    const refusedAtStart = [...this.refusedEpochs.keys()];
    const fullReadsAtStart = this.reads.fullRounds;
    const ttl = this.config.cluster.leaseTtlMs;
    const members = await this.replicas.liveMembers(ttl);
    const stateOf = new Map(members.map((member) => [member.id, member.state]));
    const candidates = members.filter((member) => member.state === 'live').map((member) => member.id);
    const wanted = draining ? [] : this.mine(enabledMailboxIds, candidates);

    const enabled = this.enabledSet(enabledMailboxIds);
    const before = await this.heldBefore(trusted);
    // A disabled mailbox's lease goes back at once (its runner is stopped by the supervisor); a deleted
    // one's went with its row.
    const disabled = [...before.values()].filter((lease) => !enabled.has(lease.mailboxId));
    await this.leases.release(disabled, this.me);
    for (const lease of disabled) before.delete(lease.mailboxId);
    const missing = wanted.filter((mailboxId) => !before.has(mailboxId));
    // LISTENER_MAX_MAILBOXES holds even when this replica holds mailboxes that are not its share (taken on
    // a control message before the assignment named another replica): it takes and asks for only as many
    // as it has room for, and the rest stays unowned (counted) until that changes.
    const room = this.room(before.size);
    const taken = await this.leases.acquire(missing.slice(0, room), this.me, ttl);
    const dead = taken.filter((lease) => lease.previousOwner !== null && lease.previousOwner !== this.me).length;
    if (dead > 0) this.metrics.leasesTakenOver('dead', dead);

    const takenIds = new Set(taken.map((lease) => lease.mailboxId));
    // A mailbox asked for whose owner then died was just taken as `dead`: not a grant to count later. One
    // granted to this replica between heldBy and acquire comes back as its own (previous owner: me) and is
    // still counted as the grant it is, below.
    for (const lease of taken) if (lease.previousOwner !== this.me) this.asked.delete(lease.mailboxId);
    const stillMissing = missing.filter((mailboxId) => !takenIds.has(mailboxId));
    const askable = stillMissing.slice(0, Math.max(0, room - taken.length));
    const askNow = options.mayAsk ? askable.filter(options.mayAsk) : askable;
    for (const { mailboxId, owner } of await this.leases.requestHandover(askNow, this.me)) {
      this.asked.set(mailboxId, stateOf.get(owner) === 'draining' ? 'drain' : 'rebalance');
    }
    // Asks still open, answered or not (one no longer wanted may still be granted), are looked at next round.
    for (const mailboxId of stillMissing) this.requested.add(mailboxId);
    for (const lease of taken) this.requested.delete(lease.mailboxId);

    const held = new Map<string, number>();
    for (const lease of before.values()) held.set(lease.mailboxId, lease.epoch);
    for (const lease of taken) held.set(lease.mailboxId, lease.epoch);
    // A full read that began after a refusal already says what the database does: that refusal is done.
    if (this.reads.fullRounds > fullReadsAtStart) for (const mailboxId of refusedAtStart) this.refusedEpochs.delete(mailboxId);
    for (const [mailboxId, epoch] of held) if (epoch <= (this.refusedEpochs.get(mailboxId) ?? 0)) held.delete(mailboxId);
    this.countGrantsReceived(held);
    // Requests that no longer matter (the assignment changed again) are forgotten.
    const stillWanted = new Set(stillMissing);
    for (const mailboxId of [...this.asked.keys()]) if (!stillWanted.has(mailboxId)) this.asked.delete(mailboxId);

    const handOver = [...before.values()]
      .filter((lease) => lease.handoverTo !== null && stateOf.get(lease.handoverTo) === 'live' && held.has(lease.mailboxId))
      .map((lease) => ({ mailboxId: lease.mailboxId, epoch: lease.epoch, to: lease.handoverTo! }));
    this.trusted = this.refusals === refusalsAtStart;
    const peerDraining = members.some((member) => member.id !== this.me && member.state === 'draining');
    return { held, handOver, waiting: stillMissing.length, wanting: stillMissing, peerDraining };
  }

  /**
   * The leases held at the start of a round, with the asks for them: every row this replica holds when it
   * may have lost some (see the class), else what it remembers plus the rows that changed for a reason it
   * cannot know by itself (asks for its leases, grants to it).
   */
  private async heldBefore(trusted: boolean): Promise<Map<string, HeldLease>> {
    const since = this.lastFullReadAt;
    const full = !trusted || since === null || performance.now() - since >= FULL_LEASE_READ_MS || !this.heartbeat || this.heartbeat.lapsedSince(since);
    if (full) {
      this.lastFullReadAt = performance.now();
      const all = await this.leases.heldBy(this.me);
      this.reads.fullRounds += 1;
      this.reads.fullRows += all.length;
      for (const lease of all) this.requested.delete(lease.mailboxId);
      return new Map(all.map((lease) => [lease.mailboxId, lease]));
    }
    const before = new Map<string, HeldLease>([...this.known].map(([mailboxId, epoch]) => [mailboxId, { mailboxId, epoch, handoverTo: null }]));
    const rows = await this.leases.handoversOf(this.me, [...this.requested]);
    this.reads.changeRounds += 1;
    this.reads.changeRows += rows.length;
    this.requested.clear();
    for (const { owner, ...lease } of rows) {
      if (owner === this.me) before.set(lease.mailboxId, lease);
      else if (lease.handoverTo === this.me) this.requested.add(lease.mailboxId);
    }
    return before;
  }

  /** The enabled mailboxes as a set, built again only when the list changes (100,000 ids cost ~10 ms a round). */
  private enabledSet(enabledMailboxIds: readonly string[]): ReadonlySet<string> {
    if (this.enabled?.ids !== enabledMailboxIds) this.enabled = { ids: enabledMailboxIds, set: new Set(enabledMailboxIds) };
    return this.enabled.set;
  }

  /** How many more leases this replica may hold, holding `held` (LISTENER_MAX_MAILBOXES; unbounded without it). */
  private room(held: number): number {
    const cap = this.config.listener.maxMailboxes;
    return cap === undefined ? Number.POSITIVE_INFINITY : Math.max(0, cap - held);
  }

  /** This replica's share; the supervisor passes the same array until the mailbox list changes. */
  private mine(enabledMailboxIds: readonly string[], candidates: string[]): string[] {
    const replicas = candidates.join('\n');
    if (this.assignment?.replicas === replicas && this.assignment.mailboxes === enabledMailboxIds) return this.assignment.mine;
    const { owners } = assignMailboxes(enabledMailboxIds, candidates, { maxMailboxesPerReplica: this.config.listener.maxMailboxes });
    const mine = [...owners].filter(([, owner]) => owner === this.me).map(([mailboxId]) => mailboxId);
    this.assignment = { replicas, mailboxes: enabledMailboxIds, mine };
    return mine;
  }

  /** Passes a lease to the replica that asked (after the mailbox's runner stopped). False: it was not ours to give any more. */
  async grant(lease: LeaseToHandOver): Promise<boolean> {
    let granted: boolean;
    try {
      granted = (await this.leases.grantHandover(lease.mailboxId, this.me, lease.epoch, this.config.cluster.leaseTtlMs)) !== null;
    } catch (error) {
      this.trusted = false;
      throw error;
    }
    if (granted) this.known.delete(lease.mailboxId);
    // Not granted: the taker is gone (the lease stays here), or it was no longer ours (read it again).
    else this.trusted = false;
    return granted;
  }

  /**
   * Takes the leases of `mailboxIds` that are free or whose owner is dead, outside a round (a control
   * message: a mailbox created or enabled here). Those held by a live replica stay: the next round asks.
   * No more than LISTENER_MAX_MAILBOXES leaves room for. The epoch of each taken, by mailbox id.
   */
  async take(mailboxIds: string[]): Promise<Map<string, number>> {
    let taken;
    try {
      taken = await this.leases.acquire(mailboxIds.slice(0, this.room(this.known.size)), this.me, this.config.cluster.leaseTtlMs);
    } catch (error) {
      this.trusted = false;
      throw error;
    }
    const dead = taken.filter((lease) => lease.previousOwner !== null && lease.previousOwner !== this.me).length;
    if (dead > 0) this.metrics.leasesTakenOver('dead', dead);
    for (const lease of taken) {
      this.known.set(lease.mailboxId, lease.epoch);
      if (lease.previousOwner !== this.me) this.asked.delete(lease.mailboxId);
    }
    return new Map(taken.map((lease) => [lease.mailboxId, lease.epoch]));
  }

  /** Gives leases back outside a round (a control message: the mailbox disabled or deleted). */
  async release(leases: Array<{ mailboxId: string; epoch: number }>): Promise<void> {
    try {
      await this.leases.release(leases, this.me);
    } catch (error) {
      this.trusted = false;
      throw error;
    }
    for (const { mailboxId } of leases) this.known.delete(mailboxId);
  }

  /**
   * A write about `mailboxId` under `epoch` was refused by the fence: that lease is not this replica's
   * (taken over while it was silent, or gone with its mailbox's row), whatever it remembers. Epochs only
   * grow, so no round answers it held again; the next reads every lease held. Without this, a replica that
   * remembered the lease (its heartbeat never lapsed) started a new runner under it at every pass until
   * the minute's full read, each one fenced out in turn.
   */
  refused(mailboxId: string, epoch: number): void {
    this.refusals += 1;
    this.trusted = false;
    this.refusedEpochs.set(mailboxId, Math.max(epoch, this.refusedEpochs.get(mailboxId) ?? 0));
    if ((this.known.get(mailboxId) ?? Number.POSITIVE_INFINITY) <= epoch) this.known.delete(mailboxId);
  }

  /** Gives back every lease still held (end of a drain, or a clean stop): free for anyone at once. */
  async releaseAll(held: Map<string, number>): Promise<void> {
    this.trusted = false;
    await this.leases.release([...held].map(([mailboxId, epoch]) => ({ mailboxId, epoch })), this.me);
    for (const mailboxId of held.keys()) this.known.delete(mailboxId);
  }

  /** Leases that appeared without this replica acquiring them were granted to it: count why it asked. */
  private countGrantsReceived(held: Map<string, number>): void {
    for (const mailboxId of held.keys()) {
      if (this.known.has(mailboxId)) continue;
      const reason = this.asked.get(mailboxId);
      if (reason) {
        this.metrics.leasesTakenOver(reason);
        this.asked.delete(mailboxId);
      }
    }
    this.known = new Map(held);
  }
}
