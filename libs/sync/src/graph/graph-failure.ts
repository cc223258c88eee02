import { errorMessage, FailureCode, graphFailureCode } from '@app/failures';
import { GraphApiError, isGraphApiError } from '@app/graph';
import { outboundRefusalOf } from '@app/outbound';
import { CredentialUnavailableError } from '../mailbox-credentials';
import { REFUSED_ADDRESS_RETRY_MS } from '../runner/reconnecting-runner';

/**
 * Why a Graph mailbox stopped, as its runner must treat it (the counterpart of IMAP's classifyImapError):
 * - `auth`: Graph refused the token even after a refresh (one quick retry with a new token, then long backoff);
 * - `credential`: no usable token, or access denied: a human must act (long backoff);
 * - `throttled`, `network`: retry with backoff, no sooner than Graph's Retry-After.
 */
export interface GraphFailure {
  kind: 'auth' | 'credential' | 'network' | 'throttled';
  /** Ours (FailureCode), `GRAPH_<Graph's code>`, or a code passed through. */
  code: FailureCode | string;
  message: string;
  retryAfterMs?: number | null;
}

export function graphFailureOf(error: unknown): GraphFailure {
  if (error instanceof CredentialUnavailableError) return { kind: 'credential', code: error.code, message: error.message };
  // The outbound policy refused Graph's address: only an operator fixes that, so retry rarely.
  const refusal = outboundRefusalOf(error);
  if (refusal) return { kind: 'network', code: refusal.code, message: refusal.message, retryAfterMs: REFUSED_ADDRESS_RETRY_MS };
  if (isGraphApiError(error)) return graphApiFailure(error);
  return { kind: 'network', code: (error as { code?: string }).code ?? FailureCode.GraphSyncFailed, message: errorMessage(error) };
}

function graphApiFailure(error: GraphApiError): GraphFailure {
  const message = `${error.message}${error.requestId ? ` (request-id ${error.requestId})` : ''}`;
  switch (error.kind) {
    case 'auth':
      return { kind: 'auth', code: error.code ? graphFailureCode(error.code) : FailureCode.GraphUnauthorized, message };
    case 'forbidden':
      return { kind: 'credential', code: FailureCode.GraphAccessDenied, message };
    case 'throttled':
      return { kind: 'throttled', code: FailureCode.GraphThrottled, message, retryAfterMs: error.retryAfterMs };
    default:
      return { kind: 'network', code: graphFailureCode(error.code || error.kind.toUpperCase()), message, retryAfterMs: error.retryAfterMs };
  }
}
