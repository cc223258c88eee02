import { MailboxLogger } from '@app/logging';
import { withTimeout } from '@app/async';
import { isFencedOut } from '@app/cluster';
import { ConnectionEvent } from '@app/mailbox-state';
import { MailboxSpec, refOf } from '../mailbox-spec';
import { StateReason } from '../mailbox-state.reporter';
import { AUTH_FAILURE_RECONNECT, ReconnectPolicy } from './reconnect-policy';
import { RunnerDependencies } from './runner-dependencies';
import { RunnerStopEvent } from './mailbox-runner-like';
import { errorMessage } from '@app/failures';

/** A stop waits this long at most for the status writes in flight (one statement each when healthy). */
const REPORT_WAIT_MS = 5_000;

/** After the server rejects an OAuth token, refresh it and try again this soon (once). */
const TOKEN_RETRY_MS = 2_000;

/**
 * After the outbound policy refused the server's address, try again no sooner than this: only an operator
 * (provider host, OUTBOUND_ALLOWED_NETWORKS) or a DNS change fixes it, and a provider change restarts the
 * runner at once anyway.
 */
export const REFUSED_ADDRESS_RETRY_MS = 10 * 60_000;

/**
 * The connect/retry loop IMAP and Graph runners share: one attempt at a time (callbacks of an older
 * attempt are ignored), exponential backoff with jitter after a drop, far longer backoff after a
 * rejected login, and one quick retry with a refreshed token when an OAuth token is refused.
 */
export abstract class ReconnectingRunner<D extends RunnerDependencies = RunnerDependencies> {
  protected readonly logger: MailboxLogger;
  protected stopped = false;
  /**
   * A warm standby (make-before-break hand-over, before the grant): this replica holds no lease on the
   * mailbox, so the runner writes nothing at all — no status, no cursor, no token refresh.
   */
  protected standby = false;
  /** Bumped by every (re)connection; callbacks of older attempts are ignored. */
  protected attempt = 0;
  protected readonly reconnects = new ReconnectPolicy();
  protected readonly authRetries = new ReconnectPolicy(AUTH_FAILURE_RECONNECT);
  /** Set after a refused token: the next attempt refreshes it first. */
  protected refreshTokenFirst = false;
  private triedTokenRefresh = false;
  private retryTimer?: NodeJS.Timeout;
  /** The connect waiting at the gate, if one does: a newer one replaces it. */
  private queuedConnect?: AbortController;
  /** Status writes in flight: a stop waits for them, so none lands after the lease is handed over. */
  private readonly reports = new Set<Promise<unknown>>();

  protected constructor(
    readonly spec: MailboxSpec,
    protected readonly deps: D,
  ) {
    this.logger = new MailboxLogger(spec.id);
  }

  start(): void {
    void this.connect('start');
  }

  protected abstract connectOnce(event: 'start' | 'retry'): Promise<void>;

  /** From now on the runner makes no attempt: one still waiting for its turn gives its place up. */
  protected halt(): void {
    this.stopped = true;
    this.queuedConnect?.abort();
  }

  /**
   * Waits for the attempt's turn at the connect gate (10,000 mailboxes starting at once must not all hit
   * the mail server, nor the database, in the same second; a warm standby waits for the slower hand-over
   * ramp), then makes it. A connect still waiting is replaced by a newer one (a standby activated before
   * its turn came connects at once at the live ramp). Never rejects: anything unexpected (the database
   * unreachable…) is logged and retried with backoff.
   */
  protected async connect(event: 'start' | 'retry'): Promise<void> {
    this.queuedConnect?.abort();
    const queued = new AbortController();
    this.queuedConnect = queued;
    const attempt = (): Promise<void> => {
      if (this.queuedConnect === queued) this.queuedConnect = undefined;
      return this.connectOnce(event);
    };
    try {
      await this.deps.connectGate.run(this.standby ? 'standby' : 'live', this.spec.endpoint.host, attempt, queued.signal);
    } catch (error) {
      if (this.fencedOut(error) || this.stopped) return;
      this.logger.error(`Connecting failed unexpectedly: ${errorMessage(error)}`);
      this.retryIn(this.reconnects.nextDelay(this.deps.clock.now()));
    }
  }

  /**
   * Whether `error` is a write refused by the lease fence; if so, the supervisor is told (it counts it and
   * stops this runner at once, writing no status: the mailbox's new owner reports it).
   */
  protected fencedOut(error: unknown): boolean {
    if (!isFencedOut(error)) return false;
    this.deps.onFencedOut(this.spec.id, error);
    return true;
  }

  /** Reports a connection event under the runner's lease; a stopped runner reports nothing more (its stop's own event aside, see `finalReport`). */
  protected async report(event: ConnectionEvent, reason: StateReason | null): Promise<void> {
    if (this.stopped || this.standby) return;
    const write = this.deps.reporter.apply(refOf(this.spec), event, reason, this.deps.lease);
    this.reports.add(write);
    write.then(
      () => this.reports.delete(write),
      () => this.reports.delete(write),
    );
    await write;
  }

  /**
   * For stop(): waits (bounded) for the status writes in flight, then writes what the stop moves the
   * mailbox to (`release`, see RunnerStopEvent), if anything. A runner stopped for a hand-over writes
   * nothing after this resolves: the lease may be granted at once.
   */
  protected async finalReport(event: RunnerStopEvent): Promise<void> {
    if (this.reports.size > 0) await withTimeout(Promise.allSettled([...this.reports]), REPORT_WAIT_MS).catch(() => undefined);
    if (event) await this.deps.reporter.apply(refOf(this.spec), 'release', null, this.deps.lease);
  }

  /** A new attempt begins: earlier attempts' timers and callbacks stop counting. */
  protected nextAttempt(): number {
    clearTimeout(this.retryTimer);
    return ++this.attempt;
  }

  protected isCurrent(attempt: number): boolean {
    return attempt === this.attempt && !this.stopped;
  }

  /**
   * The start of every connection attempt, IMAP or Graph, once its turn at the connect gate came: a new
   * attempt, then the state change. Null when the runner stopped meanwhile.
   */
  protected async beginAttempt(event: 'start' | 'retry'): Promise<number | null> {
    if (this.stopped) return null;
    const attempt = this.nextAttempt();
    await this.report(event, null);
    return attempt;
  }

  /** The mailbox is listening: backoffs start over, and a refused token may be retried again. */
  protected async listening(): Promise<void> {
    this.reconnects.connected(this.deps.clock.now());
    this.authRetries.reset();
    this.triedTokenRefresh = false;
    await this.report('listening', null);
  }

  /**
   * Records a rejected login (state auth_error). Returns true when it scheduled the one quick retry with
   * a refreshed token (an OAuth token the server refused); otherwise the caller picks the backoff.
   */
  protected async loginRejected(reason: StateReason, tokenRefused: boolean): Promise<boolean> {
    await this.report('auth_rejected', reason);
    if (!tokenRefused || this.triedTokenRefresh) return false;
    // The server may simply have a stale view of the token: refresh it and try once more soon.
    this.triedTokenRefresh = true;
    this.refreshTokenFirst = true;
    this.retryIn(TOKEN_RETRY_MS);
    return true;
  }

  /** Records a dropped connection (state backoff) and schedules the next attempt, at least `minDelayMs` away. */
  protected async connectionDropped(reason: StateReason, minDelayMs = 0): Promise<void> {
    await this.report('dropped', reason);
    this.retryIn(Math.max(this.reconnects.nextDelay(this.deps.clock.now()), minDelayMs));
  }

  protected retryIn(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect('retry'), delayMs);
    this.retryTimer.unref?.();
  }

  protected cancelRetry(): void {
    clearTimeout(this.retryTimer);
  }
}
