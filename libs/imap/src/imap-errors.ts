import { FailureCode } from '@app/failures';
import { outboundRefusalOf } from '@app/outbound';

/**
 * Why an IMAP connection failed, as the listener must treat it:
 * - `auth`: the server rejected the login (wrong password, expired/invalid token). Do not hammer.
 * - `tls`: the certificate is not trusted; retrying will not help until someone acts.
 * - `network`: refused, unreachable, timed out, dropped, or the server said "not now" to the login
 *   (RFC 5530 UNAVAILABLE, SERVERBUG, INUSE, LIMIT). Retry with backoff.
 * - `protocol`: the server answered something unexpected (folder missing, BAD). Retry slowly.
 * - `refused`: the outbound policy refused the server's address (production); an operator must change the
 *   provider's host or OUTBOUND_ALLOWED_NETWORKS. Nothing was sent; retry rarely (DNS may change).
 */
export type ImapFailureKind = 'auth' | 'tls' | 'network' | 'protocol' | 'refused';

export interface ImapFailure {
  kind: ImapFailureKind;
  /** Ours (FailureCode), or passed through: a socket or TLS code of the OS, an IMAP response code. */
  code: FailureCode | string;
  message: string;
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_NOT_YET_VALID',
]);

/**
 * RFC 5530 response codes of a refused login that say "not now", not "wrong credentials": Dovecot answers
 * `NO [UNAVAILABLE] Temporary authentication failure` while its passdb cannot be read, Gmail
 * `NO [UNAVAILABLE] Temporary System Problem`. imapflow flags every refused LOGIN/AUTHENTICATE as
 * `authenticationFailed`, so without this an outage of the server's auth backend put every mailbox in
 * auth_error, backed them off for an hour, and disabled password mailboxes after IMAP_AUTH_DISABLE_AFTER_HOURS.
 */
const TEMPORARY_LOGIN_CODES = new Set<string>([FailureCode.ServerUnavailable, 'SERVERBUG', 'INUSE', 'LIMIT']);

export function classifyImapError(error: unknown): ImapFailure {
  const refusal = outboundRefusalOf(error);
  if (refusal) return { kind: 'refused', code: refusal.code, message: refusal.message };
  const e = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as Record<string, unknown>;
  const message = String(e.responseText ?? e.message ?? 'unknown error').split(/\r?\n/)[0].slice(0, 300);
  const code = typeof e.code === 'string' ? e.code : typeof e.serverResponseCode === 'string' ? e.serverResponseCode : undefined;
  if (code && TEMPORARY_LOGIN_CODES.has(code)) return { kind: 'network', code, message };
  // Our code is named after IMAP's own response code (RFC 5530), which is also what servers answer.
  if (e.authenticationFailed === true || code === FailureCode.AuthenticationFailed || /AUTHENTICATIONFAILED|authentication failed|invalid credentials/i.test(message)) {
    return { kind: 'auth', code: FailureCode.AuthenticationFailed, message };
  }
  if (code && TLS_CODES.has(code)) return { kind: 'tls', code, message: `${message} (the server certificate is not trusted)` };
  if (code && /^E[A-Z]+$/.test(code)) return { kind: 'network', code, message };
  if (code === 'NoConnection' || code === 'ETIMEOUT' || /timeout|closed|socket|connect/i.test(message)) return { kind: 'network', code: code ?? FailureCode.ConnectionLost, message };
  return { kind: 'protocol', code: code ?? FailureCode.ImapError, message };
}
