import { GraphErrorCode, graphHttpStatusCode } from '@app/failures';
import { GraphApiError, type GraphErrorKind } from './graph-api.error';

/** Graph's error body: `{ error: { code, message, innerError: { 'request-id', date, … } } }`. */
export interface GraphErrorBody {
  code: string | null;
  message: string | null;
  requestId: string | null;
}

/** Statuses the client retries by itself (honouring Retry-After): throttling and gateway hiccups. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 503, 504]);

/**
 * Sync-state codes that mean "start delta over": Exchange answers 410 `SyncStateNotFound` (older docs:
 * `syncStateNotFound`, `resyncRequired`) and 400 `ErrorInvalidSyncStateData` for a token it cannot read.
 */
const SYNC_RESET_CODES = new Set(['syncstatenotfound', 'resyncrequired', 'syncstateinvalid', 'errorinvalidsyncstatedata']);

/** Tolerates any body: HTML from a proxy, empty, truncated JSON — then every field is null. */
export function parseGraphErrorBody(text: string): GraphErrorBody {
  const empty: GraphErrorBody = { code: null, message: null, requestId: null };
  if (!text.trim().startsWith('{')) return empty;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return empty;
  }
  const error = (parsed as { error?: unknown } | null)?.error;
  if (!error || typeof error !== 'object') return empty;
  const record = error as Record<string, unknown>;
  const inner = (record.innerError ?? record.innererror) as Record<string, unknown> | undefined;
  const requestId = inner && typeof inner === 'object' ? inner['request-id'] : undefined;
  return {
    code: typeof record.code === 'string' ? record.code : null,
    message: typeof record.message === 'string' ? record.message : null,
    requestId: typeof requestId === 'string' ? requestId : null,
  };
}

/**
 * `Retry-After` as delta-seconds ("7", possibly fractional from some proxies) or an HTTP date; null when
 * absent or unreadable. A date in the past means "now" (0).
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (text === '') return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // An HTTP date names its month ("Sat, 21 Nov 2026 10:00:30 GMT"); Date.parse alone would take "-5" for a year.
  if (!/[a-z]{3}/i.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

export interface GraphResponseInfo {
  status: number;
  /** The raw body text (may be empty or not JSON). */
  body: string;
  /** Response headers (only `retry-after` and `request-id` are read). */
  headers: { get(name: string): string | null };
  method: string;
  /** The request path for the message, without the query (delta tokens stay out of logs). */
  path: string;
  /** The request was a delta page: a 400 sync-state code means a reset, not a bad request. */
  delta?: boolean;
}

function kindOf(status: number, code: string, delta: boolean): GraphErrorKind {
  if (status === 410) return 'sync_reset';
  if (delta && status === 400 && SYNC_RESET_CODES.has(code.toLowerCase())) return 'sync_reset';
  if (status === 401) return 'auth';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 429) return 'throttled';
  if (status >= 500) return 'server';
  // 400, 405, 409, 412, 413, 415, 422…: the request as built will not be accepted.
  return 'invalid_request';
}

/**
 * The GraphApiError for a non-2xx response. 503/504 map to `server` (they are retried first, like 429,
 * but a gateway that keeps failing is an outage, not our rate); 429 maps to `throttled`.
 */
export function classifyGraphResponse(response: GraphResponseInfo, now: number = Date.now()): GraphApiError {
  const parsed = parseGraphErrorBody(response.body);
  const code = parsed.code ?? graphHttpStatusCode(response.status);
  const requestId = response.headers.get('request-id') ?? parsed.requestId;
  const detail = parsed.message ?? (response.body.trim() ? response.body.trim().slice(0, 200) : 'no body');
  return new GraphApiError({
    kind: kindOf(response.status, code, response.delta === true),
    status: response.status,
    code,
    message: `Graph ${response.method} ${response.path} answered ${response.status} ${code}: ${detail}`,
    retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), now),
    requestId,
  });
}

/** Node's fetch failures carry the socket error in `cause` (often nested); timeouts are AbortSignal reasons. */
export function networkErrorCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth += 1) {
    const record = current as { name?: unknown; code?: unknown; cause?: unknown };
    if (record.name === 'TimeoutError') return GraphErrorCode.TimedOut;
    if (typeof record.code === 'string' && record.code !== '' && record.code !== 'ABORT_ERR') return record.code;
    current = record.cause;
  }
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'AbortError' ? GraphErrorCode.Aborted : GraphErrorCode.Network;
}

/** Failures where the request certainly never reached Graph, so even a non-idempotent POST may be sent again. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

export function requestNeverSent(code: string): boolean {
  return NOT_SENT_CODES.has(code);
}

/** Certificate and TLS failures: no retry will fix them (a CA, a hostname or a clock needs fixing). */
export function isTlsFailure(code: string): boolean {
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(code);
}

export function networkError(error: unknown, method: string, path: string, timeoutMs: number): GraphApiError {
  const code = networkErrorCode(error);
  const reason = code === GraphErrorCode.TimedOut ? `no answer within ${timeoutMs} ms` : ((error as Error | null)?.message ?? String(error));
  const cause = (error as { cause?: { message?: unknown } } | null)?.cause;
  const causeText = typeof cause?.message === 'string' && cause.message !== reason ? ` (${cause.message})` : '';
  return new GraphApiError({ kind: 'network', status: 0, code, message: `Graph ${method} ${path} failed: ${reason}${causeText}`, cause: error });
}
