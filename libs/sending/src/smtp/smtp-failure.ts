import { FailureCode } from '@app/failures';
import { OutboundAddressRefusedError } from '@app/outbound';
import { SendFailure, SendFailureCode, smtpReplyCode } from '../send-failure';

/** What nodemailer's SMTP errors carry. */
export interface SmtpError extends Error {
  code?: string;
  originalCode?: string;
  responseCode?: number;
  response?: string;
  command?: string;
}

/** Certificate problems: a configuration matter (the server's certificate, verifyCertificate), not a passing fault. */
const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * A login the server refused. nodemailer calls every failed AUTH `EAUTH`, also a 4xx reply (RFC 4954's
 * 454 4.7.0 "Temporary authentication failure": the server cannot check credentials now, its auth
 * backend down): that one is transient like any 4xx, not "Check the password", and no reason to renew a token.
 */
export function isAuthFailure(error: unknown): boolean {
  const smtp = error as SmtpError;
  return smtp?.code === 'EAUTH' && replyKind(smtp) !== 'transient';
}

/** What the server's reply code says (RFC 5321 §4.2.1): 4xx transient, 5xx permanent; null without a failure reply. */
function replyKind(smtp: SmtpError): SendFailure['kind'] | null {
  if (typeof smtp.responseCode !== 'number' || smtp.responseCode < 400) return null;
  return smtp.responseCode >= 500 ? 'permanent' : 'transient';
}

/**
 * An attempt's failure → retried or not, with a stable code and the server's reply in the message.
 * - A reply code: 4xx transient, 5xx permanent (RFC 5321 §4.2.1), passed through as SMTP_<code>;
 *   a refused login (535 …) is SMTP_AUTH_FAILED with "Check the password" for a password mailbox.
 * - No reply (refused, reset, timeout, DNS, a connection closed after DATA without an answer): transient.
 *   RFC 5321 §6.1: without the final reply the message is not delivered, so it is sent again.
 * - The outbound policy's refusal and certificate errors: permanent (retrying changes nothing).
 */
export function classifySmtpError(error: unknown, authMethod: 'basic' | 'oauth2'): SendFailure {
  if (error instanceof OutboundAddressRefusedError || (error as { code?: string })?.code === FailureCode.OutboundAddressRefused) {
    return { kind: 'permanent', code: FailureCode.OutboundAddressRefused, message: (error as Error).message };
  }
  const smtp = error as SmtpError;
  const reply = smtp.response?.trim();
  if (isAuthFailure(smtp)) {
    const advice = authMethod === 'basic' ? 'Check the password' : 'Sign in again: the access token was refused';
    return { kind: 'permanent', code: SendFailureCode.AuthFailed, message: `The server refused the login${reply ? ` (${reply})` : ''}: ${advice}` };
  }
  const kind = replyKind(smtp);
  if (kind) {
    return {
      kind,
      code: smtpReplyCode(smtp.responseCode!),
      message: `The server answered ${smtp.command ? `${smtp.command.split(' ')[0]} with ` : ''}${reply ?? smtp.responseCode}`,
    };
  }
  const cause = smtp.originalCode ?? smtp.code ?? '';
  if (CERTIFICATE_CODES.has(cause)) return { kind: 'permanent', code: SendFailureCode.Tls, message: `TLS: ${smtp.message} (${cause}); fix the certificate or turn verifyCertificate off` };
  if (cause === 'ETLS') return { kind: 'transient', code: SendFailureCode.Tls, message: smtp.message };
  return { kind: 'transient', code: SendFailureCode.Network, message: `${smtp.message}${cause ? ` (${cause})` : ''}` };
}
