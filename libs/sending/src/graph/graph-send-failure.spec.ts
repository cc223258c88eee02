import { GraphApiError } from '@app/graph';
import { OutboundAddressRefusedError } from '@app/outbound';
import { classifyGraphSendError } from './graph-send-failure';

const graphError = (status: number, code: string, extra: Partial<ConstructorParameters<typeof GraphApiError>[0]> = {}) =>
  new GraphApiError({ kind: status === 429 ? 'throttled' : status >= 500 ? 'server' : status === 401 ? 'auth' : 'invalid_request', status, code, message: `Graph POST /me/sendMail answered ${status} ${code}: text`, ...extra });

describe('classifyGraphSendError', () => {
  it('429 and 5xx are transient with GRAPH_<code> and carry Retry-After', () => {
    expect(classifyGraphSendError(graphError(429, 'TooManyRequests', { retryAfterMs: 7_000 }))).toEqual({
      kind: 'transient',
      code: 'GRAPH_TooManyRequests',
      message: 'Graph POST /me/sendMail answered 429 TooManyRequests: text',
      retryAfterMs: 7_000,
    });
    expect(classifyGraphSendError(graphError(503, 'ServiceUnavailable'))).toMatchObject({ kind: 'transient', code: 'GRAPH_ServiceUnavailable' });
    expect(classifyGraphSendError(graphError(503, 'ServiceUnavailable'))).not.toHaveProperty('retryAfterMs');
    expect(classifyGraphSendError(graphError(502, 'HTTP502', { requestId: 'r-1' })).message).toMatch(/request-id r-1/);
  });

  it("other 4xx are permanent with Graph's code and message; 401 and 403 say what to do", () => {
    expect(classifyGraphSendError(graphError(400, 'ErrorInvalidRecipients'))).toEqual({
      kind: 'permanent',
      code: 'GRAPH_ErrorInvalidRecipients',
      message: 'Graph POST /me/sendMail answered 400 ErrorInvalidRecipients: text',
    });
    // The mailbox's failures (the mailbox status shows them): the service's codes, Graph's code kept in the message.
    expect(classifyGraphSendError(graphError(401, 'InvalidAuthenticationToken', { requestId: 'r-2' }))).toEqual({
      kind: 'permanent',
      code: 'GRAPH_UNAUTHORIZED',
      message: 'Graph POST /me/sendMail answered 401 InvalidAuthenticationToken: text (request-id r-2): sign in again (Graph refused the token even after a refresh)',
    });
    expect(classifyGraphSendError(graphError(403, 'ErrorAccessDenied'))).toMatchObject({
      kind: 'permanent',
      code: 'GRAPH_ACCESS_DENIED',
      message: expect.stringMatching(/answered 403 ErrorAccessDenied: text: grant Mail\.Send/),
    });
  });

  it('no answer is transient; certificate problems and the outbound policy are permanent; anything else is transient', () => {
    const network = (code: string) => new GraphApiError({ kind: 'network', status: 0, code, message: `Graph POST /me/sendMail failed: ${code}` });
    expect(classifyGraphSendError(network('ECONNRESET'))).toMatchObject({ kind: 'transient', code: 'GRAPH_ECONNRESET' });
    expect(classifyGraphSendError(network('ETIMEDOUT'))).toMatchObject({ kind: 'transient', code: 'GRAPH_ETIMEDOUT' });
    expect(classifyGraphSendError(network('DEPTH_ZERO_SELF_SIGNED_CERT'))).toMatchObject({ kind: 'permanent' });
    expect(classifyGraphSendError(new OutboundAddressRefusedError('10.0.0.1', '10.0.0.1', 'private'))).toMatchObject({ kind: 'permanent', code: 'OUTBOUND_ADDRESS_REFUSED' });
    expect(classifyGraphSendError(new Error('identity provider unreachable'))).toMatchObject({ kind: 'transient', code: 'GRAPH_ENETWORK' });
  });
});
