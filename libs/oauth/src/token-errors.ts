import { AADSTS_PATTERN, AADSTS_PREFIX, aadstsCode, FailureCode, httpStatusCode } from '@app/failures';
import { outboundRefusalOf } from '@app/outbound';

/**
 * How a failed token request should be handled:
 * - `permanent`: the grant is dead (revoked, expired, consent withdrawn, MFA/password change). The token
 *   becomes `invalid` and a human must sign in again; retrying would only hammer the identity provider.
 * - `configuration`: the provider's app registration is wrong (bad or expired client secret, unknown
 *   client id). The user's grant is probably fine: keep it, retry slowly, tell the operator.
 * - `transient`: network, 5xx, 429, anything unknown. Retry with backoff; the token stays `active`.
 */
export type TokenErrorKind = 'permanent' | 'configuration' | 'transient';

export interface ClassifiedTokenError {
  kind: TokenErrorKind;
  /** Ours (FailureCode), or passed through: `AADSTS50173`, `invalid_grant`, `ECONNREFUSED`, `http_503` … */
  code: FailureCode | string;
  /** One line for a human, without trace/correlation ids. */
  message: string;
  retryAfterMs?: number;
}

/** AADSTS codes after which only a new sign-in helps. */
const PERMANENT_AADSTS = new Set([
  50173, // grant revoked (password reset, admin revocation)
  700082, // refresh token expired due to inactivity
  70008, // refresh token expired
  70043, // refresh token expired (sign-in frequency policy)
  700084, // refresh token (SPA) expired
  50132, // session invalid: password changed / reset
  50133, // session invalid: password changed
  54005, // authorization code already redeemed / refresh token reused
  65001, // consent not given or withdrawn
  65004, // user declined consent
  50076, // MFA now required
  50079, // MFA registration required
  50158, // external security challenge required
  53003, // blocked by Conditional Access
  50057, // user account disabled
  50034, // user account does not exist in the tenant
  50053, // account locked
  70000, // invalid grant (generic)
  9002313, // invalid request (malformed/revoked refresh token)
]);

/** AADSTS codes that point at the app registration, not at the user. */
const CONFIGURATION_AADSTS = new Set([
  7000215, // invalid client secret
  7000222, // client secret expired
  700016, // application not found in the tenant
  700054, // response_type not enabled
  7000218, // client_secret or client_assertion required (public client flows disabled)
  90002, // tenant not found
  90023, // invalid request for this app
  50011, // redirect URI mismatch
  500011, // resource principal not found
]);

const PERMANENT_CODES = new Set(['invalid_grant', 'interaction_required', 'consent_required', 'login_required', 'bad_token']);
const CONFIGURATION_CODES = new Set(['invalid_client', 'unauthorized_client', 'invalid_scope', 'unsupported_grant_type']);
const TRANSIENT_CODES = new Set(['temporarily_unavailable', 'server_error', 'slow_down']);

interface ErrorFields {
  code?: string;
  description?: string;
  status?: number;
  retryAfter?: string;
  networkCode?: string;
}

/** Pulls the OAuth error fields out of msal-node errors, Gaxios (Google) errors and plain Node errors. */
function fieldsOf(error: unknown): ErrorFields {
  if (typeof error !== 'object' || error === null) return { description: String(error) };
  const e = error as Record<string, unknown>;
  const response = e.response as { status?: number; data?: Record<string, unknown>; headers?: Record<string, string> } | undefined;
  const data = response?.data;
  const cause = e.cause as { code?: string } | undefined;
  const networkCode = typeof e.code === 'string' && /^E[A-Z]+/.test(e.code) ? e.code : cause?.code;
  return {
    code: (typeof data?.error === 'string' ? data.error : undefined) ?? (typeof e.errorCode === 'string' ? e.errorCode : undefined) ?? (typeof e.code === 'string' ? e.code : undefined),
    description:
      (typeof data?.error_description === 'string' ? data.error_description : undefined) ?? (typeof e.errorMessage === 'string' ? e.errorMessage : undefined) ?? (typeof e.message === 'string' ? e.message : undefined),
    status: response?.status ?? (typeof e.status === 'number' ? e.status : undefined),
    retryAfter: response?.headers?.['retry-after'] ?? (e.headers as Record<string, string> | undefined)?.['retry-after'],
    networkCode,
  };
}

/** The human part: from the AADSTS code on (msal prefixes "Error(s): … - Description:"), first line only. */
function firstLine(text: string): string {
  const aadsts = text.indexOf(AADSTS_PREFIX);
  const from = aadsts >= 0 ? text.slice(aadsts) : text;
  return from.split(/\r?\n/)[0].replace(/\s*(Trace ID|Correlation ID|Timestamp):.*$/i, '').replace(/ - (Correlation ID|Trace ID|Timestamp):.*$/i, '').trim().slice(0, 500);
}

export function classifyTokenError(error: unknown): ClassifiedTokenError {
  // Our own outbound policy refused the identity address (production): an operator must fix the provider
  // or OUTBOUND_ALLOWED_NETWORKS. Nothing reached the identity provider; the user's grant is untouched.
  const refusal = outboundRefusalOf(error);
  if (refusal) return { kind: 'configuration', code: refusal.code, message: refusal.message };
  const f = fieldsOf(error);
  const description = firstLine(f.description ?? 'unknown error');
  const aadsts = AADSTS_PATTERN.exec(f.description ?? '');
  const retryAfterMs = f.retryAfter && /^\d+$/.test(f.retryAfter) ? Number(f.retryAfter) * 1000 : undefined;

  if (aadsts) {
    const number = Number(aadsts[1]);
    const code = aadstsCode(number);
    if (PERMANENT_AADSTS.has(number)) return { kind: 'permanent', code, message: description };
    if (CONFIGURATION_AADSTS.has(number)) return { kind: 'configuration', code, message: description };
  }
  if (f.status === 429 || (f.status !== undefined && f.status >= 500)) {
    return { kind: 'transient', code: aadsts ? aadstsCode(aadsts[1]) : httpStatusCode(f.status), message: description, retryAfterMs };
  }
  if (f.code && TRANSIENT_CODES.has(f.code)) return { kind: 'transient', code: f.code, message: description, retryAfterMs };
  if (f.code && PERMANENT_CODES.has(f.code)) return { kind: 'permanent', code: aadsts ? aadstsCode(aadsts[1]) : f.code, message: description };
  if (f.code && CONFIGURATION_CODES.has(f.code)) return { kind: 'configuration', code: aadsts ? aadstsCode(aadsts[1]) : f.code, message: description };
  return { kind: 'transient', code: f.networkCode ?? f.code ?? FailureCode.UnknownTokenError, message: description, retryAfterMs };
}
