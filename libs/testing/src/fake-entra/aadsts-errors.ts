import { randomUUID } from 'node:crypto';

/**
 * Entra ID (AADSTS) errors as the v2.0 endpoints return them. The codes and texts follow
 * https://learn.microsoft.com/entra/identity-platform/reference-error-codes and responses seen in the wild.
 */
export interface AadError {
  status: number;
  /** OAuth `error` (invalid_grant, invalid_client, authorization_pending, …). */
  error: string;
  /** The AADSTS number, also in `error_codes`. */
  code: number;
  message: string;
  suberror?: string;
}

/** The JSON body Entra sends with an error (token, devicecode endpoints). */
export interface AadErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
  suberror?: string;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');

export const Aadsts = {
  missingParameter: (name: string): AadError => ({
    status: 400,
    error: 'invalid_request',
    code: 900144,
    message: `The request body must contain the following parameter: '${name}'.`,
  }),
  unsupportedGrantType: (grantType: string): AadError => ({
    status: 400,
    error: 'unsupported_grant_type',
    code: 70003,
    message: `The app requested an unsupported grant type '${grantType}'.`,
  }),
  applicationNotFound: (clientId: string, tenant: string): AadError => ({
    status: 400,
    error: 'unauthorized_client',
    code: 700016,
    message: `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
  }),
  invalidClientSecret: (clientId: string): AadError => ({
    status: 401,
    error: 'invalid_client',
    code: 7000215,
    message: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
  }),
  missingClientSecret: (): AadError => ({
    status: 401,
    error: 'invalid_client',
    code: 7000218,
    message: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  }),
  publicClientWithSecret: (): AadError => ({
    status: 401,
    error: 'invalid_client',
    code: 700025,
    message: "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
  }),
  multipleResources: (scope: string): AadError => ({
    status: 400,
    error: 'invalid_scope',
    code: 28000,
    message: `Provided value for the input parameter scope is not valid because it contains more than one resource. Scope ${scope} is not valid.`,
  }),
  clientCredentialScope: (scope: string): AadError => ({
    status: 400,
    error: 'invalid_scope',
    code: 1002012,
    message: `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
  }),
  noTenant: (): AadError => ({
    status: 400,
    error: 'invalid_request',
    code: 50059,
    message: 'No tenant-identifying information found in either the request or implied by any provided credentials.',
  }),
  malformedGrant: (): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 9002313,
    message: 'Invalid request. Request is malformed or invalid.',
  }),
  invalidAuthorizationCode: (): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 70000,
    message: "The provided value for the 'code' parameter is not valid.",
  }),
  grantForOtherClient: (): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 70000,
    message: 'Provided grant is invalid or malformed. The grant was issued to a different client.',
  }),
  authorizationCodeRedeemed: (): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 54005,
    message: 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
  }),
  authorizationCodeExpired: (): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 70008,
    message:
      'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
  }),
  redirectUriMismatch: (got: string, expected: string): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 500112,
    message: `The reply address '${got}' does not match the reply address '${expected}' provided when requesting Authorization code.`,
  }),
  pkceMismatch: (): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 501481,
    message: 'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
  }),
  /** A refresh token that was already exchanged (rotated away) came back: the whole grant is revoked. */
  refreshTokenReused: (): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 54005,
    message:
      'OAuth2 refresh token was already redeemed, please retry with a new valid code or use an existing refresh token. The grant has been revoked because a redeemed refresh token was presented again.',
    suberror: 'bad_token',
  }),
  grantRevoked: (issuedAt: number, validFrom: number): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 50173,
    message: `The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '${iso(issuedAt)}' and the TokensValidFrom date (before which tokens are not valid) for this user is '${iso(validFrom)}'.`,
    suberror: 'bad_token',
  }),
  consentRequired: (clientId: string, appName: string): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 65001,
    message: `The user or administrator has not consented to use the application with ID '${clientId}' named '${appName}'. Send an interactive authorization request for this user and resource.`,
    suberror: 'consent_required',
  }),
  refreshTokenInactive: (issuedAt: number): AadError => ({
    status: 400,
    error: 'invalid_grant',
    code: 700082,
    message: `The refresh token has expired due to inactivity. The token was issued on ${iso(issuedAt)} and was inactive for 90.00:00:00.`,
    suberror: 'bad_token',
  }),
  authorizationPending: (): AadError => ({
    status: 400,
    error: 'authorization_pending',
    code: 70016,
    message: 'OAuth 2.0 device flow error. Authorization is pending. Continue polling.',
  }),
  authorizationDeclined: (): AadError => ({
    status: 400,
    error: 'authorization_declined',
    code: 70000,
    message: 'The user denied the authorization request. Device flow authorization was declined.',
  }),
  deviceCodeExpired: (): AadError => ({
    status: 400,
    error: 'expired_token',
    code: 70019,
    message: 'Verification code expired.',
  }),
  badVerificationCode: (): AadError => ({
    status: 400,
    error: 'bad_verification_code',
    code: 70000,
    message: "The provided value for the input parameter 'device_code' is not valid.",
  }),
  serverError: (): AadError => ({
    status: 500,
    error: 'server_error',
    code: 50000,
    message: 'There was an error issuing a token or an issue with our sign-in service.',
  }),
  temporarilyUnavailable: (): AadError => ({
    status: 503,
    error: 'temporarily_unavailable',
    code: 90033,
    message: 'A transient error has occurred. Please try again.',
  }),
  throttled: (): AadError => ({
    status: 429,
    error: 'temporarily_unavailable',
    code: 90055,
    message: 'The request is throttled temporarily. Please try after some time.',
  }),
  // Errors shown on the sign-in pages (/authorize), or sent back to the redirect URI.
  redirectUriNotRegistered: (redirectUri: string, clientId: string): AadError => ({
    status: 400,
    error: 'invalid_request',
    code: 50011,
    message: `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.`,
  }),
  userNotInTenant: (username: string, tenant: string): AadError => ({
    status: 400,
    error: 'invalid_request',
    code: 50020,
    message: `User account '${username}' from identity provider does not exist in tenant '${tenant}' and cannot access the application in that tenant.`,
  }),
  accessDenied: (): AadError => ({
    status: 400,
    error: 'access_denied',
    code: 65004,
    message: 'User declined to consent to access the app.',
  }),
  loginRequired: (): AadError => ({
    status: 400,
    error: 'login_required',
    code: 50058,
    message: 'A silent sign-in request was sent but no user is signed in.',
  }),
  unsupportedResponseType: (responseType: string): AadError => ({
    status: 400,
    error: 'unsupported_response_type',
    code: 700054,
    message: `response_type '${responseType}' is not enabled for the application.`,
  }),
  invalidCodeChallengeMethod: (): AadError => ({
    status: 400,
    error: 'invalid_request',
    code: 501491,
    message: "Invalid size of Code_Challenge parameter, or code_challenge_method is not 'S256' or 'plain'.",
  }),
};

/** `2024-01-09 02:02:12Z`, the format of Entra's `timestamp` field. */
export function aadTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/** Builds the error body exactly in Entra's shape; the description carries trace/correlation ids and time. */
export function aadErrorBody(err: AadError, ctx: { baseUrl: string; now: number; correlationId?: string }): AadErrorBody {
  const traceId = randomUUID();
  const correlationId = ctx.correlationId || randomUUID();
  const timestamp = aadTimestamp(ctx.now);
  const body: AadErrorBody = {
    error: err.error,
    error_description: `AADSTS${err.code}: ${err.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: [err.code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `${ctx.baseUrl}/error?code=${err.code}`,
  };
  if (err.suberror) body.suberror = err.suberror;
  return body;
}
