/**
 * What a failed Graph call means to the caller, not how it looked on the wire:
 * - `auth`: the token was refused even after one forced refresh (re-consent / new token needed);
 * - `forbidden`: the token is valid but may not touch this mailbox or resource (missing Mail.Read, other app's subscription);
 * - `not_found`: user, folder, subscription or message does not exist;
 * - `sync_reset`: the delta sync state is gone; start a new delta round without a link;
 * - `throttled`: 429 still after the retries;
 * - `invalid_request`: 400-class request Graph will never accept as it is (a bug or bad input: retrying does not help);
 * - `server`: 5xx (503/504 included once the retries are spent) or a response that is not what Graph promises;
 * - `network`: no HTTP answer (connection refused/reset, DNS, TLS, timeout).
 */
export type GraphErrorKind = 'auth' | 'forbidden' | 'not_found' | 'sync_reset' | 'throttled' | 'invalid_request' | 'server' | 'network';

export interface GraphApiErrorInit {
  kind: GraphErrorKind;
  /** HTTP status; 0 when there was no answer. */
  status: number;
  /** Graph's `error.code` (e.g. `ErrorItemNotFound`), or a network code such as `ECONNREFUSED` / `ETIMEDOUT`. */
  code: string;
  message: string;
  retryAfterMs?: number | null;
  requestId?: string | null;
  cause?: unknown;
}

/** A Graph call that failed for good (after the retries this client does itself). Never carries the access token. */
export class GraphApiError extends Error {
  readonly kind: GraphErrorKind;
  readonly status: number;
  readonly code: string;
  /** What the server asked us to wait (Retry-After), when it said so. */
  readonly retryAfterMs: number | null;
  /** Graph's `request-id` (header or innerError): what Microsoft support asks for. */
  readonly requestId: string | null;

  constructor(init: GraphApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'GraphApiError';
    this.kind = init.kind;
    this.status = init.status;
    this.code = init.code;
    this.retryAfterMs = init.retryAfterMs ?? null;
    this.requestId = init.requestId ?? null;
  }

  /** Worth retrying later by the caller (the client has already retried within its own budget). */
  get transient(): boolean {
    return this.kind === 'throttled' || this.kind === 'server' || this.kind === 'network';
  }
}

export function isGraphApiError(error: unknown, kind?: GraphErrorKind): error is GraphApiError {
  return error instanceof GraphApiError && (kind === undefined || error.kind === kind);
}
