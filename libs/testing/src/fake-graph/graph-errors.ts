/**
 * Microsoft Graph error responses: always `{ error: { code, message, innerError: { date, request-id,
 * client-request-id } } }`. Codes and texts are the ones Graph and Exchange Online return (from the
 * Graph docs and from payloads reported in microsoftgraph/* issues), so a client that branches on them
 * works against the real service too.
 */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface GraphErrorBody {
  error: {
    code: string;
    message: string;
    innerError: { date: string; 'request-id': string; 'client-request-id': string };
  };
}

export function graphErrorBody(error: GraphError, context: { now: number; requestId: string; clientRequestId: string }): GraphErrorBody {
  return {
    error: {
      code: error.code,
      message: error.message,
      innerError: {
        // Graph renders this without fractional seconds or zone: "2018-06-01T06:31:24".
        date: new Date(context.now).toISOString().slice(0, 19),
        'request-id': context.requestId,
        'client-request-id': context.clientRequestId,
      },
    },
  };
}

export const GraphErrors = {
  tokenMissing: () => new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.'),
  tokenMalformed: () =>
    new GraphError(
      401,
      'InvalidAuthenticationToken',
      "IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or JWE Compact Serialization Format. (JWS): 'EncodedHeader.EndcodedPayload.EncodedSignature'. (JWE): 'EncodedProtectedHeader.EncodedEncryptedKey.EncodedInitializationVector.EncodedCiphertext.EncodedAuthenticationTag'.",
    ),
  tokenInactive: () => new GraphError(401, 'InvalidAuthenticationToken', 'Access token has expired or is not yet valid.'),
  invalidAudience: () => new GraphError(401, 'InvalidAuthenticationToken', 'Invalid audience.'),
  accessDenied: () => new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.'),
  meWithAppToken: () => new GraphError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.'),
  invalidUser: (user: string) => new GraphError(404, 'ErrorInvalidUser', `The requested user '${user}' is invalid.`),
  mailboxNotEnabled: () =>
    new GraphError(404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.'),
  itemNotFound: () => new GraphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.'),
  idMalformed: () => new GraphError(400, 'ErrorInvalidIdMalformed', 'Id is malformed.'),

  subscriptionNotFound: () => new GraphError(404, 'ResourceNotFound', 'The object was not found.'),
  subscriptionOfOtherApp: () =>
    new GraphError(403, 'Forbidden', 'The subscription was created by a different application and cannot be accessed by this one.'),
  invalidRequest: (message: string) => new GraphError(400, 'InvalidRequest', message),
  validationError: (message: string) => new GraphError(400, 'ValidationError', message),
  validationFailed: () =>
    new GraphError(
      400,
      'ValidationError',
      'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
    ),
  validationMismatch: () =>
    new GraphError(400, 'ValidationError', 'Subscription validation request failed. Response must exactly match validationToken query parameter.'),
  // Graph answers a validation timeout with InvalidRequest, not ValidationError (payloads in microsoftgraph issues).
  validationTimedOut: () => new GraphError(400, 'InvalidRequest', 'Subscription validation request timed out.'),
  expirationTooFar: (maxMinutes: number) =>
    new GraphError(400, 'InvalidRequest', `Subscription expiration can only be ${maxMinutes} minutes in the future.`),
  badJson: () =>
    new GraphError(
      400,
      'BadRequest',
      'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
    ),

  /** Exchange's answer to a delta/skip token whose sync state is gone: start over without a token. */
  syncStateNotFound: (generation: number, highest: number) =>
    new GraphError(410, 'SyncStateNotFound', `The sync state generation is not found; generation=${generation};[highest=${highest}].`),
  syncStateInvalid: () => new GraphError(400, 'ErrorInvalidSyncStateData', 'The sync state data is corrupt or otherwise invalid.'),
  unknownProperty: (name: string) =>
    new GraphError(400, 'RequestBroker--ParseUri', `Could not find a property named '${name}' on type 'Microsoft.OutlookServices.Message'.`),
  invalidFilter: () => new GraphError(400, 'ErrorInvalidUrlQueryFilter', 'The query filter contains one or more invalid nodes.'),

  throttled: (status: 429 | 503, retryAfterSeconds: number) =>
    status === 429
      ? new GraphError(429, 'TooManyRequests', 'Please retry again later.', { 'Retry-After': String(retryAfterSeconds) })
      : new GraphError(503, 'ServiceUnavailable', 'The service is temporarily unavailable. Please retry again later.', {
          'Retry-After': String(retryAfterSeconds),
        }),
  // The exact body Exchange Online sends past 4 concurrent requests per mailbox and app.
  mailboxConcurrency: () =>
    new GraphError(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'Retry-After': '1' }),

  unknownSegment: (segment: string) => new GraphError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`),
  invalidVersion: (version: string) => new GraphError(400, 'BadRequest', `Invalid version: ${version}`),
  methodNotAllowed: () => new GraphError(405, 'BadRequest', 'Specified HTTP method is not allowed for the request target.'),
};
