import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock, CLOCK } from '@app/clock';
import { APP_CONFIG, AppConfig } from '@app/config';
import { EventOutbox, MailboxRef } from '@app/events';
import { OutboundPolicy } from '@app/outbound';
import { RetryAfterError } from '@app/queues';
import { CredentialUnavailableError, MailboxCredentials, mailboxSpecOf, MailboxSpecRow } from '@app/sync';
import { BegunAttempt, OutboxRepository, SendError, SendRow, SendTargetRow } from './outbox.repository';
import { SendJobData } from './queue/mail-send-queue';
import { mailSendFailedEvent, mailSentEvent } from './send-events';
import { isMailboxSendFailure, SendFailure, SendFailureCode } from './send-failure';
import { MailboxSendStatusRepository } from './mailbox-send-status.repository';
import { SendMetrics } from './send.metrics';
import { SendResult } from './send-state';
import { classifySmtpError, isAuthFailure } from './smtp/smtp-failure';
import { HandOverRefusedError, smtpAttempt, SmtpLogin } from './smtp/smtp-attempt';
import { classifyGraphSendError } from './graph/graph-send-failure';
import { GraphSendTransport } from './graph/graph-send.transport';
import { needsCopy, SentCopier } from './sent-copy/sent-copier';
import { SentFolderOutcome } from './sent-copy/sent-folder.outcome';
import { SmtpSessions } from './smtp/smtp-sessions.provider';

/**
 * A transient failure inside the retry window: BullMQ runs the job again after the backoff, and not
 * before the server's Retry-After (Graph 429/503) when it gave one (`delayMs`, 0 without: the backoff).
 */
export class SendRetryLaterError extends RetryAfterError {
  constructor(readonly failure: SendFailure) {
    super(`${failure.code}: ${failure.message}`, failure.retryAfterMs ?? 0);
    this.name = 'SendRetryLaterError';
  }
}

/** What a run came to: the final state it recorded, or nothing (`skipped`: already final, mailbox gone, not ours). */
export type SendOutcome = Exclude<SendResult, 'retried'> | 'skipped';

/**
 * One run of a `mail-send` job: one SMTP attempt and its recorded outcome.
 *
 * The "server accepted DATA, worker died before recording it" window: the attempt writes
 * `state = sending, in_flight_since` (committed) after the login and before MAIL FROM; every outcome
 * clears it in the same write that records the outcome. A run that finds its send still `sending` knows
 * the previous run died in between: the server may or may not have the message, and sending again could
 * deliver it twice. It is not sent again: the send fails with SEND_OUTCOME_UNKNOWN (and `mail.send_failed`)
 * so a human or the CRM decides (look in the recipient's mailbox or the Sent folder for its Message-ID).
 * A lost connection during an attempt that is alive is different: no final reply means not delivered
 * (RFC 5321 §6.1), so it is retried.
 */
@Injectable()
export class SendProcessor {
  private readonly logger = new Logger(SendProcessor.name);

  constructor(
    private readonly repository: OutboxRepository,
    private readonly credentials: MailboxCredentials,
    private readonly events: EventOutbox,
    private readonly outbound: OutboundPolicy,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: SendMetrics,
    private readonly graph: GraphSendTransport,
    private readonly sentCopier: SentCopier,
    private readonly sentFolder: SentFolderOutcome,
    private readonly sessions: SmtpSessions,
    private readonly sendStatus: MailboxSendStatusRepository,
  ) {}

  /** One run, and the one place its outcome is counted (mail_listener_sends_total, send_duration_seconds). */
  async process(data: SendJobData): Promise<SendOutcome> {
    const seen: { provider?: string } = {};
    const count = (result: SendResult) => {
      if (seen.provider) this.metrics.record(result, seen.provider, (Date.now() - data.queuedAt) / 1000);
    };
    try {
      const outcome = await this.run(data, seen);
      if (outcome !== 'skipped') count(outcome);
      return outcome;
    } catch (error) {
      if (error instanceof SendRetryLaterError) count('retried');
      throw error;
    }
  }

  /** `seen.provider` is set once the send's mailbox is known (the metrics' label). */
  private async run(data: SendJobData, seen: { provider?: string }): Promise<SendOutcome> {
    const found = await this.repository.beginAttempt(data.sendId);
    if (!found || found.send.state === 'sent' || found.send.state === 'failed') return 'skipped';
    const { send: current, target } = found;
    if (!target) return 'skipped'; // the mailbox was deleted: its sends went with it
    seen.provider = target.provider_id;
    const mailbox: MailboxRef = { id: target.mailbox_id, email: target.email, externalId: target.external_id };
    if (current.state === 'sending') {
      // A server that files its own copy (Exchange, Gmail, Graph's Sent Items) can confirm the interrupted attempt.
      const verdict = await this.sentFolder.lookUp(target, current);
      if (verdict.found) return this.succeed(mailbox, current, verdict.response, target);
      return this.fail(mailbox, current, {
        code: SendFailureCode.OutcomeUnknown,
        message: `An attempt started at ${current.in_flight_since?.toISOString() ?? 'an unknown time'} was interrupted after the message may have reached the server; it is not sent again to avoid a duplicate. Look for Message-ID ${current.message_id} in the recipients' mailboxes or the Sent folder (${verdict.why})`,
      });
    }
    // The attempt was counted by beginAttempt when the send was queued.
    const row = found.started ? current : null;
    if (!row) return 'skipped';
    const notSendable = this.notSendable(target);
    if (notSendable) return this.fail(mailbox, row, { code: SendFailureCode.NotSendable, message: notSendable });

    let failure: SendFailure;
    // Graph (microsoft-graph providers) or SMTP: the transport; the outcome rules below are the same.
    const viaGraph = target.provider_type === 'microsoft-graph';
    try {
      const result = viaGraph ? await this.graph.attempt(row, target) : await this.attempt(row, target, found.smtp);
      return this.succeed(mailbox, row, result.response, target);
    } catch (error) {
      if (error instanceof HandOverRefusedError) return 'skipped';
      failure =
        error instanceof CredentialUnavailableError
          ? { kind: 'permanent', code: error.code, message: `${error.message} (${SendFailureCode.CredentialUnavailable})` }
          : viaGraph
            ? classifyGraphSendError(error)
            : classifySmtpError(error, target.auth_method);
    }
    if (failure.kind === 'permanent') return this.fail(mailbox, row, failure);
    // Real time, as queuedAt is (the row's created_at from Postgres).
    if (Date.now() - data.queuedAt >= this.config.sending.retry.windowMs) {
      return this.fail(mailbox, row, { code: SendFailureCode.RetryWindowOver, message: `Retried for ${Math.round(this.config.sending.retry.windowMs / 60_000)} min; last: ${failure.code}: ${failure.message}` });
    }
    await this.repository.markRetry(row.id, failure);
    throw new SendRetryLaterError(failure);
  }

  private notSendable(target: SendTargetRow): string | null {
    if (!target.send_emails) return "the provider's sendEmails was turned off";
    if (!target.enabled) return 'the mailbox was disabled';
    if (target.provider_type === 'microsoft-graph') return target.auth_method === 'oauth2' ? null : 'Microsoft Graph needs OAuth 2.0 (the provider authMethod is not oauth2)';
    if (target.provider_type !== 'imap' || !target.smtp_host || !target.smtp_port || !target.smtp_security) return 'the provider has no SMTP settings';
    return null;
  }

  /** The attempt; with XOAUTH2, a login refused outright (535 without a challenge) is retried once after a forced refresh. */
  private async attempt(row: SendRow, target: SendTargetRow, read: BegunAttempt['smtp']) {
    // The spec row and the message came with beginAttempt (one statement, before the hand-over mark).
    if (!read) throw new Error(`Mailbox ${target.mailbox_id} is gone`);
    if (!read.head) throw new Error(`The content of send ${row.id} is missing`);
    const raw = this.repository.attemptContent(row, read.head);
    const spec = mailboxSpecOf(read.spec satisfies MailboxSpecRow, []); // sending needs no folders
    let renewed = false;
    const login: SmtpLogin =
      target.auth_method === 'basic'
        ? { kind: 'password', user: spec.login, password: await this.passwordOf(spec, read.passwordEncrypted) }
        : {
            kind: 'oauth2',
            user: spec.login,
            accessToken: async (renew) => {
              renewed ||= renew;
              const resolved = await this.credentials.resolve(spec, { forceRefresh: renew });
              if (resolved.credential.kind !== 'oauth2') throw new Error('not an OAuth credential');
              return resolved.credential.accessToken;
            },
          };
    const run = (as: SmtpLogin) =>
      smtpAttempt({
        settings: { host: target.smtp_host!, port: target.smtp_port!, security: target.smtp_security! },
        verifyCertificate: target.verify_certificate,
        login: as,
        envelope: { from: row.envelope_from, to: row.envelope_to },
        raw,
        beforeHandOver: () => this.repository.markInFlight(row.id),
        timeoutMs: this.config.sending.timeoutMs,
        outbound: this.outbound,
        reuse: { pool: this.sessions, mailboxId: target.mailbox_id },
      });
    try {
      return await run(login);
    } catch (error) {
      if (login.kind !== 'oauth2' || renewed || !isAuthFailure(error)) throw error;
      this.logger.log({ mailboxId: target.mailbox_id, sendId: row.id }, `Send ${row.id}: XOAUTH2 login refused; refreshing the token once and trying again`);
      // The first token asked for is a refreshed one; renewed is then set, so no third try.
      return run({ ...login, accessToken: (renew) => login.accessToken(renew || !renewed) });
    }
  }

  /** `stored`: the encrypted password beginAttempt read (undefined: read it now). */
  private async passwordOf(spec: ReturnType<typeof mailboxSpecOf>, stored: string | null | undefined): Promise<string> {
    const resolved = await this.credentials.resolve(spec, { storedPassword: stored });
    if (resolved.credential.kind !== 'password') throw new Error('not a password credential');
    return resolved.credential.password;
  }

  /**
   * `row`: the send as this run read it (the event's fields: id, Message-ID, recipients, attempts, which
   * no other writer changes while it is `sending`). One statement records it all (OutboxRepository.recordSent).
   */
  private async succeed(mailbox: MailboxRef, row: SendRow, response: string, target: SendTargetRow): Promise<SendOutcome> {
    // Real time, as queuedAt and the row's created_at are; the event carries the same instant as the row.
    const sentAt = new Date();
    const event = mailSentEvent(mailbox, { ...row, sent_at: sentAt, response }, new Date(this.clock.now()));
    const skipSentCopy = !needsCopy(target);
    const recorded = await this.repository.recordSent(row.id, { response, sentAt, event, skipSentCopy, status: this.sendStatus.clearing(mailbox.id) });
    if (!recorded) return 'skipped';
    this.events.committed();
    // The Sent copy (sent-copy/) starts once `sent` is committed: it never holds up or undoes the outcome.
    if (skipSentCopy) this.sentCopier.skippedWithSent();
    else this.sentCopier.start(row.id);
    return 'sent';
  }

  private async fail(mailbox: MailboxRef, row: SendRow, reason: SendError): Promise<SendOutcome> {
    const error = { code: reason.code, message: reason.message };
    const event = mailSendFailedEvent(mailbox, row, error, new Date(this.clock.now()));
    // The mailbox status shows what stops every send of the mailbox (a refused password …), not one message's failure.
    const status = isMailboxSendFailure(reason.code) ? this.sendStatus.recording(mailbox.id, reason) : null;
    const recorded = await this.repository.recordFailed(row.id, { error, event, status });
    if (!recorded) return 'skipped';
    this.events.committed();
    this.logger.warn({ mailboxId: mailbox.id, sendId: row.id, code: reason.code }, `Send ${row.id} failed: ${reason.code}: ${reason.message}`);
    return 'failed';
  }
}
