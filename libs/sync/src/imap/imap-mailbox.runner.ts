import { LeaseFence } from '@app/cluster';
import { errorMessage, FailureCode } from '@app/failures';
import { classifyImapError, ImapCredential, ImapFailure, ImapFolderSession } from '@app/imap';
import { CredentialUnavailableError, ResolvedCredential, TokenRefreshNotAllowedError } from '../mailbox-credentials';
import { MailboxSpec } from '../mailbox-spec';
import { MailboxRunnerLike, RunnerStopEvent, RunnerStopOptions } from '../runner/mailbox-runner-like';
import { REFUSED_ADDRESS_RETRY_MS, ReconnectingRunner } from '../runner/reconnecting-runner';
import { RunnerDependencies } from '../runner/runner-dependencies';
import { ImapFolderDelivery } from './imap-folder.delivery';
import { OwnSentCopyRepository } from './own-sent-copy.repository';

export interface ImapRunnerDependencies extends RunnerDependencies {
  /** A password mailbox whose login is rejected this long is disabled (0: never). */
  authDisableAfterMs: number;
  /** IMAP safety sweep interval (0: off). */
  safetySweepMs: number;
  disableMailbox(mailboxId: string): Promise<void>;
  /** Which new messages are our own Sent copies (see ImapFolderDelivery). */
  ownSentCopies: Pick<OwnSentCopyRepository, 'among'>;
}

/** Re-authenticate this long before an OAuth access token expires (make-before-break). */
const REAUTH_LEAD_MS = 5 * 60_000;

type Failure = ImapFailure | { kind: 'credential'; code: FailureCode; message: string };

/** What a warm standby tells its keeper: its sessions are listening (the lease may be asked for), or they were lost before the grant (the runner stopped). */
export type StandbyEvent = 'ready' | 'lost';

/** The lease of a standby runner: none. No lease has epoch 0 (the first acquisition makes it 1), so even a stray write would be refused. */
export const NO_LEASE_EPOCH = 0;

/**
 * Keeps one mailbox listening: one IMAP IDLE session per folder, reconnecting with backoff after a
 * drop, backing off far longer after an authentication failure (and disabling password mailboxes
 * rejected for too long), and re-authenticating OAuth sessions before their token expires by opening
 * the new sessions first and closing the old ones after (no gap; events are deduplicated by id).
 */
export class ImapMailboxRunner extends ReconnectingRunner<ImapRunnerDependencies> implements MailboxRunnerLike {
  private sessions: ImapFolderSession[] = [];
  /** Sessions of an attempt (or a re-authentication) still opening: a stop closes them too and waits for their catch-up deliveries. */
  private readonly opening = new Set<ImapFolderSession>();
  private reauthTimer?: NodeJS.Timeout;
  /** Standing by: told when the sessions listen or are lost; the credential they logged in with (for re-authentication once active). */
  private standbyListener?: (event: StandbyEvent) => void;
  private standbyCredential?: ResolvedCredential;

  constructor(spec: MailboxSpec, deps: ImapRunnerDependencies) {
    super(spec, deps);
  }

  /**
   * Stops listening; `event` says why (RunnerStopEvent; null: it was deleted, replaced, or handed over:
   * no state write). Resolves once every session is closed and the deliveries they had in flight are
   * written, so a lease granted after this finds the cursors where this runner left them.
   */
  async stop(event: RunnerStopEvent, options?: RunnerStopOptions): Promise<void> {
    this.halt();
    // Handed over or let go (`release`): someone else logs in next, so the connection is dropped without
    // LOGOUT, which would make Dovecot wake a hibernated session to answer it (ImapFolderSession.drop).
    // The lease may be granted once nothing more can be delivered.
    await this.closeSessions({ drop: options?.handover || event === 'release' });
    await this.finalReport(event);
  }

  /**
   * Make-before-break, the taker's side: opens the sessions (login, EXAMINE, IDLE) before this replica
   * holds the mailbox's lease, writing nothing and publishing nothing (see ImapFolderSession's standby).
   * `listener` hears `ready` once every folder listens — then the lease may be asked for — or `lost` when
   * opening failed or a session dropped before `activate()`: the runner is stopped then (its keeper decides
   * whether to warm again). The deps' lease is a placeholder until `activate()`.
   */
  standBy(listener: (event: StandbyEvent) => void): this {
    this.standby = true;
    this.standbyListener = listener;
    void this.connect('start');
    return this;
  }

  /**
   * The lease was granted (or taken over from a dead owner) under `lease`: the standby becomes an ordinary
   * runner. Its open sessions catch up from the cursors as stored now — the previous owner wrote its last
   * ones before the grant — and go on listening; without open sessions (still opening, or lost) it
   * connects as a cold start does. Never rejects.
   */
  async activate(lease: LeaseFence): Promise<void> {
    if (!this.standby || this.stopped) return;
    this.deps.lease = lease;
    this.standby = false;
    this.standbyListener = undefined;
    const sessions = this.sessions;
    const credential = this.standbyCredential;
    this.standbyCredential = undefined;
    if (sessions.length === 0 || !credential) {
      await this.closeSessions();
      await this.connect('start');
      return;
    }
    const attempt = this.attempt;
    try {
      // The catch-up does not wait for the status write: mail that arrived since the grant is fetched at once.
      await Promise.all([this.report('start', null), ...sessions.map((session) => session.activate())]);
    } catch (error) {
      if (this.fencedOut(error) || !this.isCurrent(attempt)) return;
      await this.closeSessions();
      await this.failed(this.failureOf(error)).catch((failure: unknown) => {
        if (!this.fencedOut(failure)) this.retryIn(this.reconnects.nextDelay(this.deps.clock.now()));
      });
      return;
    }
    if (!this.isCurrent(attempt)) return;
    await this.listening().catch((error: unknown) => void this.fencedOut(error));
    this.scheduleReauthentication(credential);
  }

  /** A standby that could not open, or whose session dropped before the grant: stopped, and its keeper told. */
  private async standbyLost(failure: Failure): Promise<void> {
    const listener = this.standbyListener;
    this.standbyListener = undefined;
    this.halt();
    await this.closeSessions();
    this.logger.debug(`Warm standby lost (${failure.code}: ${failure.message})`);
    listener?.('lost');
  }

  /** In standby every way to a retry ends the standby instead (its keeper warms again, or asks cold). */
  protected override retryIn(delayMs: number): void {
    if (this.standby && !this.stopped) {
      void this.standbyLost({ kind: 'network', code: FailureCode.ConnectionLost, message: 'retry while standing by' });
      return;
    }
    super.retryIn(delayMs);
  }

  /** Reconnects now and catches up from the stored cursors (POST /resync). */
  async restart(): Promise<void> {
    if (this.stopped || this.standby) return;
    await this.closeSessions();
    await this.connect('start');
  }

  /** Ends the current attempt: timers off, sessions closed, late callbacks of this attempt ignored. */
  private async closeSessions(options: { drop?: boolean } = {}): Promise<void> {
    this.nextAttempt();
    clearTimeout(this.reauthTimer);
    const sessions = [...this.sessions, ...this.opening];
    this.sessions = [];
    this.opening.clear();
    await Promise.all(sessions.map((session) => session.close(options)));
  }

  /** Make-before-break: fresh sessions with a fresh token are listening before the old ones close. */
  async reauthenticate(): Promise<void> {
    if (this.stopped || this.sessions.length === 0) return;
    const attempt = this.attempt;
    let resolved: ResolvedCredential;
    let fresh: ImapFolderSession[];
    try {
      resolved = await this.deps.credentials.resolve(this.spec, { lease: this.deps.lease });
      if (!this.isCurrent(attempt)) return;
      fresh = await this.openSessions(resolved.credential);
    } catch (error) {
      if (this.fencedOut(error)) return;
      this.logger.warn(`Re-authentication failed (${this.failureOf(error).code}); the current session stays, retrying in 30 s`);
      this.reauthTimer = setTimeout(() => void this.reauthenticate(), 30_000);
      this.reauthTimer.unref?.();
      return;
    }
    if (!this.isCurrent(attempt)) {
      await Promise.all(fresh.map((session) => session.close()));
      return;
    }
    const old = this.sessions;
    this.sessions = fresh;
    this.watch(fresh, attempt);
    await Promise.all(old.map((session) => session.close()));
    this.deps.metrics.reconnects.inc({ reason: 'reauthentication' });
    this.scheduleReauthentication(resolved);
  }

  protected async connectOnce(event: 'start' | 'retry'): Promise<void> {
    const attempt = await this.beginAttempt(event);
    if (attempt === null) return;
    const standby = this.standby;
    let resolved: ResolvedCredential;
    let sessions: ImapFolderSession[];
    try {
      resolved = await this.deps.credentials.resolve(this.spec, { forceRefresh: this.refreshTokenFirst, lease: this.deps.lease, mayRefresh: !standby });
      this.refreshTokenFirst = false;
      // Stopped (or restarted) while the credential was read: sessions opened now would catch up, and
      // write their cursors, after stop() returned and the lease was perhaps handed over.
      if (!this.isCurrent(attempt)) return;
      sessions = await this.openSessions(resolved.credential, standby);
    } catch (error) {
      // A token refresh refused by the lease fence: the supervisor stops this runner.
      if (this.fencedOut(error)) return;
      if (!this.isCurrent(attempt)) return;
      if (standby) await this.standbyLost(this.failureOf(error));
      else await this.failed(this.failureOf(error));
      return;
    }
    if (!this.isCurrent(attempt) || standby !== this.standby) {
      await Promise.all(sessions.map((session) => session.close()));
      return;
    }
    this.sessions = sessions;
    this.watch(sessions, attempt);
    if (standby) {
      this.standbyCredential = resolved;
      this.standbyListener?.('ready');
      return;
    }
    await this.listening();
    this.scheduleReauthentication(resolved);
  }

  private async openSessions(credential: ImapCredential, standby = false): Promise<ImapFolderSession[]> {
    const sessions = this.spec.folders.map(
      (folder) =>
        new ImapFolderSession({
          endpoint: this.spec.endpoint,
          outbound: this.deps.outbound,
          credential,
          folder: folder.path,
          sink: new ImapFolderDelivery(this.spec, folder, this.deps),
          sweepIntervalMs: this.deps.safetySweepMs,
          standby,
        }),
    );
    for (const session of sessions) this.opening.add(session);
    const results = await Promise.allSettled(sessions.map((session) => session.open()));
    for (const session of sessions) this.opening.delete(session);
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) {
      await Promise.all(sessions.map((session) => session.close()));
      throw failed.reason;
    }
    return sessions;
  }

  private watch(sessions: ImapFolderSession[], attempt: number): void {
    for (const session of sessions) {
      session.once('closed', (failure: ImapFailure) => {
        if (!this.isCurrent(attempt) || !this.sessions.includes(session)) return;
        this.dropped(failure).catch((error: unknown) => {
          if (this.fencedOut(error)) return;
          this.logger.error(`Handling a dropped connection failed: ${errorMessage(error)}`);
          this.retryIn(this.reconnects.nextDelay(this.deps.clock.now()));
        });
      });
    }
  }

  private async dropped(failure: ImapFailure): Promise<void> {
    if (this.standby) return this.standbyLost(failure);
    await this.closeSessions();
    this.deps.metrics.reconnects.inc({ reason: failure.kind });
    this.logger.warn(`Connection lost (${failure.code}: ${failure.message})`);
    await this.failed(failure);
  }

  private async failed(failure: Failure): Promise<void> {
    const reason = { code: failure.code, message: failure.message };
    const now = this.deps.clock.now();
    if (failure.kind === 'auth' || failure.kind === 'credential') {
      if (await this.loginRejected(reason, failure.kind === 'auth' && this.spec.authMethod === 'oauth2')) return;
      const delay = this.authRetries.nextDelay(now);
      if (this.spec.authMethod === 'basic' && this.deps.authDisableAfterMs > 0) {
        const since = await this.deps.reporter.authFailingSince(this.spec.id);
        const deadline = (since?.getTime() ?? now) + this.deps.authDisableAfterMs;
        if (now >= deadline) {
          this.logger.warn(`Login rejected since ${since?.toISOString()}: disabling the mailbox`);
          // The reason first: once `enabled` is false the supervisor may stop this runner at any moment.
          await this.report('disable', { code: FailureCode.AuthFailedTooLong, message: `The server rejected the login since ${since?.toISOString()}: ${failure.message}` });
          await this.stop(null);
          await this.deps.disableMailbox(this.spec.id);
          return;
        }
        // One last try when the grace period ends, then disable.
        return this.retryIn(Math.min(delay, Math.max(1_000, deadline - now)));
      }
      return this.retryIn(delay);
    }
    // An untrusted certificate will not fix itself quickly, a refused address even less: do not retry every second.
    await this.connectionDropped(reason, failure.kind === 'refused' ? REFUSED_ADDRESS_RETRY_MS : failure.kind === 'tls' ? 60_000 : 0);
  }

  private scheduleReauthentication(resolved: ResolvedCredential): void {
    clearTimeout(this.reauthTimer);
    if (!resolved.expiresAt) return;
    const delay = Math.max(5_000, resolved.expiresAt.getTime() - this.deps.clock.now() - REAUTH_LEAD_MS - Math.random() * 60_000);
    this.reauthTimer = setTimeout(() => void this.reauthenticate(), delay);
    this.reauthTimer.unref?.();
  }

  private failureOf(error: unknown): Failure {
    if (error instanceof TokenRefreshNotAllowedError) return { kind: 'credential', code: FailureCode.TokenMissing, message: error.message };
    if (error instanceof CredentialUnavailableError) return { kind: 'credential', code: error.code, message: error.message };
    const attached = (error as { failure?: ImapFailure }).failure;
    return attached ?? classifyImapError(error);
  }
}
