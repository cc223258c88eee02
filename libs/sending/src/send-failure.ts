import { FailureCode } from '@app/failures';

/**
 * Why an attempt failed, as a send's `lastError.code` and the `mail.send_failed` reason. The server's own
 * reply is passed through as `SMTP_<code>` (SMTP_550, SMTP_451) with its text in the message; a server
 * address the outbound policy refuses is the service-wide FailureCode.OutboundAddressRefused.
 */
export enum SendFailureCode {
  /** The server refused the login (535) for a password mailbox. */
  AuthFailed = 'SMTP_AUTH_FAILED',
  /** A previous attempt was in flight when its worker stopped: the server may have the message; not sent again. */
  OutcomeUnknown = 'SEND_OUTCOME_UNKNOWN',
  /** Transient failures for longer than the retry window (SEND_RETRY_WINDOW_MINUTES). */
  RetryWindowOver = 'SEND_RETRY_WINDOW_OVER',
  /** The mailbox has no usable credential (token not active, no password) at send time. */
  CredentialUnavailable = 'CREDENTIAL_UNAVAILABLE',
  /** Network: refused, reset, timed out, DNS. */
  Network = 'SMTP_NETWORK',
  /** TLS handshake or certificate verification failed. */
  Tls = 'SMTP_TLS',
  /** The provider or mailbox changed so it cannot send any more (sendEmails off, mailbox deleted or disabled). */
  NotSendable = 'NOT_SENDABLE',
}

/**
 * Failures that are the mailbox's, not one message's: every send of the mailbox fails the same way until
 * someone acts (password, certificate, server address; for Graph a token refused after the refresh or
 * Mail.Send missing; for OAuth a token that is not active). The mailbox status shows them (`sending.lastError`).
 */
const MAILBOX_SEND_FAILURES = new Set<string>([
  SendFailureCode.AuthFailed,
  SendFailureCode.Tls,
  FailureCode.OutboundAddressRefused,
  FailureCode.GraphUnauthorized,
  FailureCode.GraphAccessDenied,
  // CredentialUnavailableError at send time: the token's state (or a missing secret), the same for every send.
  FailureCode.TokenNotObtained,
  FailureCode.TokenWaitingForAuthorization,
  FailureCode.TokenInvalid,
  FailureCode.TokenMissing,
  FailureCode.NoPassword,
]);

export function isMailboxSendFailure(code: string): boolean {
  return MAILBOX_SEND_FAILURES.has(code);
}

/** `SMTP_550` for a reply code. */
export function smtpReplyCode(responseCode: number): string {
  return `SMTP_${responseCode}`;
}

export interface SendFailure {
  /** Transient failures are retried within the window; permanent ones fail the send at once. */
  kind: 'transient' | 'permanent';
  code: string;
  message: string;
  /** The server asked to wait this long before trying again (Graph's Retry-After): a floor under the backoff. */
  retryAfterMs?: number;
}
