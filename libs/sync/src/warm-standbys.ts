import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import { aboutMailbox } from '@app/logging';
import { StandbyEvent } from './imap/imap-mailbox.runner';
import { MailboxSpec } from './mailbox-spec';
import { WarmStandbyOutcome } from './sync.metrics';
import { askedInState, nextWarmStandbyState, WarmStandbyEvent, WarmStandbyState } from './warm-standby-state';
import { errorMessage } from '@app/failures';

/** What the keeper needs of a standby runner (ImapMailboxRunner in standby). */
export interface StandbyRunner {
  readonly spec: MailboxSpec;
  stop(event: null): Promise<void>;
}

export interface WarmStandbysOptions<R extends StandbyRunner> {
  /**
   * At most this many standbys warming (logging in) at once, and at most this many asked for and not yet
   * granted (SYNC_CONNECT_CONCURRENCY): asks are paced by how fast this replica logs in, and a large drain
   * or join hands over in waves the owner and this replica each handle in one round, instead of all at once
   * (when every mailbox arrives together, the activations queue for the database and mail waits seconds).
   * Ready standbys beyond that wait listening: each holds one idle session of a mailbox this replica is
   * about to run anyway (its share, within LISTENER_MAX_MAILBOXES).
   */
  limit: number;
  /** A lost standby is warmed again this many times, then its lease is asked for cold. */
  maxLosses: number;
  /**
   * An asked standby whose grant has not come after this long closes (its lease stays asked for, cold): an
   * owner that is alive but never grants must not hold one of the `limit` hand-overs in transit, nor an idle
   * session at the server, for ever.
   */
  maxAskedMs: number;
  /** Milliseconds of a monotonic clock (tests pass their own). */
  now?: () => number;
  /** Starts a standby runner for `spec` that reports to `listener`. */
  warm(spec: MailboxSpec, listener: (event: StandbyEvent) => void): R;
  /** A standby became ready: a lease round soon may ask for its mailbox. */
  onReady(): void;
  /** Counts what became of each standby (mail_listener_warm_standbys_total). */
  count?(outcome: WarmStandbyOutcome, by?: number): void;
}

interface Standby<R> {
  state: WarmStandbyState;
  /** Null once lost (stopped) or cold. */
  runner: R | null;
  fingerprint: string;
  losses: number;
  /** When the lease was asked for (now()), while asked. */
  askedAt?: number;
}

/**
 * The taker's side of make-before-break hand-overs (IMAP): for each mailbox this replica should own but a
 * live replica still holds, a standby runner logs in, selects and IDLEs first; only then may its lease be
 * asked for (`mayAsk`), so the owner keeps listening until the taker listens too, and asks come as fast
 * as this replica can log in. On the grant the supervisor `take`s the runner and activates it under the
 * new epoch. Standbys of mailboxes no longer waited for (the assignment changed, the mailbox changed or
 * was disabled) close. The supervisor runs `follow` after every lease round while it is not draining.
 */
export class WarmStandbys<R extends StandbyRunner> {
  private readonly logger = new Logger(WarmStandbys.name);
  private readonly standbys = new Map<string, Standby<R>>();
  /** How many standbys are in each state (kept with every change: asked about once per mailbox per round). */
  private readonly counts: Record<WarmStandbyState, number> = { warming: 0, ready: 0, asked: 0, lost: 0, cold: 0 };

  constructor(private readonly options: WarmStandbysOptions<R>) {}

  /**
   * Whether a lease round may ask for this mailbox now: its standby was asked for already, or is ready and
   * fewer than `limit` hand-overs are in transit (then it counts as asked from now on), or warming gave up.
   */
  mayAsk(mailboxId: string): boolean {
    const standby = this.standbys.get(mailboxId);
    if (!standby) return false;
    if (standby.state === 'ready' && this.counts.asked < this.options.limit) {
      this.transition(standby, 'ask');
      standby.askedAt = this.now();
    }
    return askedInState(standby.state);
  }

  stateOf(mailboxId: string): WarmStandbyState | undefined {
    return this.standbys.get(mailboxId)?.state;
  }

  /** Of `waiting`, how many still have a login ahead: no standby yet, warming, or lost (to warm again). */
  loginsAhead(waiting: MailboxSpec[]): number {
    return waiting.filter(({ id }) => {
      const state = this.stateOf(id);
      return state === undefined || state === 'warming' || state === 'lost';
    }).length;
  }

  /** Standbys logging in. */
  get warming(): number {
    return this.counts.warming;
  }

  /**
   * The lease of this mailbox is now held here: its standby runner, to activate (ready, or still warming:
   * activation then connects cold), or undefined (none, lost, cold: start a runner as usual).
   */
  take(mailboxId: string): R | undefined {
    const standby = this.standbys.get(mailboxId);
    if (standby) this.remove(mailboxId, standby);
    if (standby?.runner) this.options.count?.('activated');
    return standby?.runner ?? undefined;
  }

  /**
   * `waiting`: the mailboxes this replica should own that a live replica still holds, with their specs
   * (IMAP only). Standbys of other mailboxes, or of an older spec, close; lost ones warm again or go cold;
   * new ones start while fewer than `limit` are warming.
   */
  async follow(waiting: MailboxSpec[]): Promise<void> {
    const wanted = new Map(waiting.map((spec) => [spec.id, spec]));
    const closing: R[] = [];
    for (const [id, standby] of this.standbys) {
      if (wanted.get(id)?.fingerprint === standby.fingerprint) continue;
      this.remove(id, standby);
      if (standby.runner) closing.push(standby.runner);
    }
    if (closing.length > 0) this.options.count?.('closed', closing.length);
    const now = this.now();
    for (const [id, standby] of this.standbys) {
      if (standby.state !== 'asked' || now - standby.askedAt! < this.options.maxAskedMs) continue;
      this.transition(standby, 'expire');
      this.options.count?.('expired');
      this.logger.warn(aboutMailbox(id), `Mailbox ${id}: no grant ${Math.round((now - standby.askedAt!) / 1000)} s after asking its live owner; closing the warm standby, the lease stays asked for`);
      if (standby.runner) closing.push(standby.runner);
      standby.runner = null;
    }
    for (const [id, standby] of this.standbys) {
      if (standby.state !== 'lost') continue;
      if (standby.losses > this.options.maxLosses) {
        this.transition(standby, 'give_up');
        this.options.count?.('given_up');
        this.logger.log(aboutMailbox(id), `Mailbox ${id}: its warm standby was lost ${standby.losses} times; asking for the lease without one`);
      } else if (this.warming < this.options.limit) {
        this.transition(standby, 'rewarm');
        standby.runner = this.options.warm(wanted.get(id)!, (event) => this.onEvent(id, standby, event));
      }
    }
    for (const [id, spec] of wanted) {
      if (this.warming >= this.options.limit) break;
      if (this.standbys.has(id)) continue;
      const standby: Standby<R> = { state: 'warming', runner: null, fingerprint: spec.fingerprint, losses: 0 };
      this.standbys.set(id, standby);
      this.counts.warming++;
      standby.runner = this.options.warm(spec, (event) => this.onEvent(id, standby, event));
    }
    // Not awaited: closing waits for the server's LOGOUT (bounded), and the lease round must not.
    void Promise.all(closing.map((runner) => this.stop(runner)));
  }

  /** Every standby closes (this replica drains or stops). */
  async closeAll(): Promise<void> {
    const runners = [...this.standbys.values()].flatMap((standby) => (standby.runner ? [standby.runner] : []));
    this.standbys.clear();
    for (const state of Object.keys(this.counts) as WarmStandbyState[]) this.counts[state] = 0;
    if (runners.length > 0) this.options.count?.('closed', runners.length);
    await Promise.all(runners.map((runner) => this.stop(runner)));
  }

  private onEvent(id: string, standby: Standby<R>, event: StandbyEvent): void {
    // A standby closed, taken or expired (cold: its runner was stopped) meanwhile says nothing any more.
    if (this.standbys.get(id) !== standby || standby.state === 'cold') return;
    if (event === 'lost') {
      standby.losses++;
      standby.runner = null;
    }
    this.transition(standby, event);
    this.options.count?.(event);
    if (event === 'ready') this.options.onReady();
  }

  private now(): number {
    return this.options.now ? this.options.now() : performance.now();
  }

  private transition(standby: Standby<R>, event: WarmStandbyEvent): void {
    const next = nextWarmStandbyState(standby.state, event);
    this.counts[standby.state]--;
    this.counts[next]++;
    standby.state = next;
  }

  private remove(id: string, standby: Standby<R>): void {
    this.standbys.delete(id);
    this.counts[standby.state]--;
  }

  private async stop(runner: R): Promise<void> {
    await runner.stop(null).catch((error: unknown) => this.logger.warn(aboutMailbox(runner.spec.id), `Mailbox ${runner.spec.id}: closing its warm standby failed: ${errorMessage(error)}`));
  }
}
