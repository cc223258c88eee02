import { FailureCode, graphFailureCode, GraphErrorCode } from '@app/failures';
import { GraphApiError, isTlsFailure } from '@app/graph';
import { OutboundAddressRefusedError } from '@app/outbound';
import { SendFailure } from '../send-failure';

/**
 * A Graph send attempt's failure → retried or not (DESIGN "Sending mail": Graph 429/5xx transient, 4xx
 * permanent), with the service's `GRAPH_<Graph's code>` (GRAPH_ErrorInvalidRecipients, GRAPH_TooManyRequests,
 * GRAPH_ECONNRESET …) and Graph's own message. A 429/503 carries its Retry-After for the next attempt.
 * - 429, 5xx, no answer (refused, reset, timeout): transient;
 * - 401 (only after the one forced token refresh the client already made) and 403: permanent, as
 *   GRAPH_UNAUTHORIZED / GRAPH_ACCESS_DENIED with what to do (mailbox-level: the mailbox status shows them);
 * - any other 4xx: permanent;
 * - certificate problems and the outbound policy's refusal: permanent (retrying changes nothing).
 * Anything that is not a Graph answer (the identity provider away while refreshing …) is transient.
 */
export function classifyGraphSendError(error: unknown): SendFailure {
  if (error instanceof OutboundAddressRefusedError || (error as { code?: string })?.code === FailureCode.OutboundAddressRefused) {
    return { kind: 'permanent', code: FailureCode.OutboundAddressRefused, message: (error as Error).message };
  }
  if (!(error instanceof GraphApiError)) {
    return { kind: 'transient', code: graphFailureCode(GraphErrorCode.Network), message: (error as Error)?.message ?? String(error) };
  }
  const code = graphFailureCode(error.code);
  const requestId = error.requestId ? ` (request-id ${error.requestId})` : '';
  if (error.kind === 'network') {
    if (isTlsFailure(error.code)) return { kind: 'permanent', code, message: `${error.message}: fix the certificate or the CA (OAUTH_CA_FILE)` };
    return { kind: 'transient', code, message: error.message };
  }
  if (error.status === 429 || error.status >= 500) {
    return { kind: 'transient', code, message: `${error.message}${requestId}`, ...(error.retryAfterMs !== null ? { retryAfterMs: error.retryAfterMs } : {}) };
  }
  // Refused token and denied access stop every send of the mailbox: the service's codes (as the Graph
  // listener and the message reader use), so the mailbox status can show them; Graph's own code stays in the message.
  if (error.status === 401) {
    return { kind: 'permanent', code: FailureCode.GraphUnauthorized, message: `${error.message}${requestId}: sign in again (Graph refused the token even after a refresh)` };
  }
  if (error.status === 403) {
    return {
      kind: 'permanent',
      code: FailureCode.GraphAccessDenied,
      message: `${error.message}${requestId}: grant Mail.Send (the delegated scope, consented for the mailbox, or for app-only the application permission with admin consent)`,
    };
  }
  return { kind: 'permanent', code, message: `${error.message}${requestId}` };
}
