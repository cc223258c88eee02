import { FailureCode } from '@app/failures';
import { classifyImapError, ImapCredential, ImapFailure, ImapFolderSession } from '@app/imap';
import { CredentialUnavailableError, ResolvedCredential } from '../mailbox-credentials';
import { MailboxSpec } from '../mailbox-spec';
import { MailboxRunnerLike, RunnerStopOptions } from '../runner/mailbox-runner-like';
import { REFUSED_ADDRESS_RETRY_MS, ReconnectingRunner } from '../runner/reconnecting-runner';
import { RunnerDependencies } from '../runner/runner-dependencies';
import { ImapFolderDelivery } from './imap-folder.delivery';

export interface ImapRunnerDependencies extends RunnerDependencies {
  /** A password mailbox whose login is rejected this long is disabled (0: never). */
  authDisableAfterMs: number;
  /** IMAP safety sweep interval (0: off). */
  safetySweepMs: number;
  disableMailbox(mailboxId: string): Promise<void>;
}

/** Re-authenticate this long before an OAuth access token expires (make-before-break). */
const REAUTH_LEAD_MS = 5 * 60_000;

type Failure = ImapFailure | { kind: 'credential'; code: FailureCode; message: string };

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

  constructor(spec: MailboxSpec, deps: ImapRunnerDependencies) {
    super(spec, deps);
  }

  /**
   * Stops listening; `event` says what the mailbox's state becomes (null: it was deleted, replaced, or
   * handed over). Resolves once every session is closed and the deliveries they had in flight are
   * written, so a lease granted after this finds the cursors where this runner left them.
   */
  async stop(event: 'release' | 'disable' | null, _options?: RunnerStopOptions): Promise<void> {
    this.stopped = true;
    await this.closeSessions();
    await this.finalReport(event);
  }

  /** Reconnects now and catches up from the stored cursors (POST /resync). */
  async restart(): Promise<void> {
    if (this.stopped) return;
    await this.closeSessions();
    await this.connect('start');
  }

  /** Ends the current attempt: timers off, sessions closed, late callbacks of this attempt ignored. */
  private async closeSessions(): Promise<void> {
    this.nextAttempt();
    clearTimeout(this.reauthTimer);
    const sessions = [...this.sessions, ...this.opening];
    this.sessions = [];
    this.opening.clear();
    await Promise.all(sessions.map((session) => session.close()));
  }

  /** Make-before-break: fresh sessions with a fresh token are listening before the old ones close. */
  async reauthenticate(): Promise<void> {
    if (this.stopped || this.sessions.length === 0) return;
    const attempt = this.attempt;
    let resolved: ResolvedCredential;
    let fresh: ImapFolderSession[];
    try {
      resolved = await this.deps.credentials.resolve(this.spec);
      fresh = await this.openSessions(resolved.credential);
    } catch (error) {
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
    let resolved: ResolvedCredential;
    let sessions: ImapFolderSession[];
    try {
      resolved = await this.deps.credentials.resolve(this.spec, { forceRefresh: this.refreshTokenFirst });
      this.refreshTokenFirst = false;
      sessions = await this.openSessions(resolved.credential);
    } catch (error) {
      if (this.isCurrent(attempt)) await this.failed(this.failureOf(error));
      return;
    }
    if (!this.isCurrent(attempt)) {
      await Promise.all(sessions.map((session) => session.close()));
      return;
    }
    this.sessions = sessions;
    this.watch(sessions, attempt);
    await this.listening();
    this.scheduleReauthentication(resolved);
  }

  private async openSessions(credential: ImapCredential): Promise<ImapFolderSession[]> {
    const sessions = this.spec.folders.map(
      (folder) =>
        new ImapFolderSession({
          endpoint: this.spec.endpoint,
          outbound: this.deps.outbound,
          credential,
          folder: folder.path,
          sink: new ImapFolderDelivery(this.spec, folder, this.deps),
          sweepIntervalMs: this.deps.safetySweepMs,
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
          this.logger.error(`Handling a dropped connection failed: ${error instanceof Error ? error.message : String(error)}`);
          this.retryIn(this.reconnects.nextDelay(this.deps.clock.now()));
        });
      });
    }
  }

  private async dropped(failure: ImapFailure): Promise<void> {
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
    if (error instanceof CredentialUnavailableError) return { kind: 'credential', code: error.code, message: error.message };
    const attached = (error as { failure?: ImapFailure }).failure;
    return attached ?? classifyImapError(error);
  }
}
