/**
 * The codes this service itself puts in a mailbox status's `lastError.code` (the connection's or the
 * token's), in one place. Both listener runners, the error classifiers, the token service and the
 * recommended action use these members, never the strings. The values are the wire values the CRM sees:
 * never change one (a test pins them). Codes that come from elsewhere (the OS, TLS, the mail server,
 * the identity provider, Graph) are passed through; see passed-through-codes.ts.
 */
export enum FailureCode {
  // ---- login and credentials
  AuthenticationFailed = 'AUTHENTICATIONFAILED',
  AuthFailedTooLong = 'AUTH_FAILED_TOO_LONG',
  NoPassword = 'NO_PASSWORD',
  TokenNotObtained = 'TOKEN_NOT_OBTAINED',
  TokenWaitingForAuthorization = 'TOKEN_WAITING_FOR_AUTHORIZATION',
  TokenInvalid = 'TOKEN_INVALID',
  TokenMissing = 'TOKEN_MISSING',
  TokenExpired = 'TOKEN_EXPIRED',
  // ---- the token service (token.lastError.code)
  TokenCacheMissing = 'TOKEN_CACHE_MISSING',
  OAuthNotConfigured = 'OAUTH_NOT_CONFIGURED',
  ProviderAddressChanged = 'PROVIDER_ADDRESS_CHANGED',
  SignInInterrupted = 'interrupted',
  AccountMismatch = 'account_mismatch',
  NoAuthorizationCode = 'no_code',
  UnknownTokenError = 'unknown',
  // ---- reaching the server
  OutboundAddressRefused = 'OUTBOUND_ADDRESS_REFUSED',
  /** RFC 5530's own name: the server refused the login for now, its side failing (not the credentials). */
  ServerUnavailable = 'UNAVAILABLE',
  ConnectionLost = 'CONNECTION_LOST',
  SweepTimeout = 'SWEEP_TIMEOUT',
  ImapError = 'IMAP_ERROR',
  // ---- Microsoft Graph (besides GRAPH_<Graph's code>)
  GraphNeedsOAuth = 'GRAPH_NEEDS_OAUTH',
  GraphAccessDenied = 'GRAPH_ACCESS_DENIED',
  GraphThrottled = 'GRAPH_THROTTLED',
  GraphUnauthorized = 'GRAPH_UNAUTHORIZED',
  GraphSyncFailed = 'GRAPH_SYNC_FAILED',
  // ---- listener replicas
  ListenerUnresponsive = 'LISTENER_UNRESPONSIVE',
  FencedOut = 'FENCED_OUT',
}

/** What each code means, for a human: the OpenAPI document's description of `lastError.code` is built from it. */
export const FAILURE_CODE_DESCRIPTIONS: Record<FailureCode, string> = {
  [FailureCode.AuthenticationFailed]: 'the mail server rejected the login (password, or an OAuth token it does not accept)',
  [FailureCode.AuthFailedTooLong]: 'the server rejected a password mailbox for longer than IMAP_AUTH_DISABLE_AFTER_HOURS: the mailbox was disabled',
  [FailureCode.NoPassword]: 'no password is stored for the mailbox',
  [FailureCode.TokenNotObtained]: 'no OAuth token has been obtained yet',
  [FailureCode.TokenWaitingForAuthorization]: 'a sign-in (device code or browser) is pending',
  [FailureCode.TokenInvalid]: 'the OAuth token is invalid (its refresh failed for good): sign in again',
  [FailureCode.TokenMissing]: 'the token has no access token stored',
  [FailureCode.TokenExpired]: "the access token has expired and only the mailbox's listener refreshes it: retry once the listener has (it refreshes ahead of expiry; see the mailbox status)",
  [FailureCode.TokenCacheMissing]: 'the identity client has no cached account for the token: sign in again',
  [FailureCode.OAuthNotConfigured]: 'the provider has no OAuth client configured',
  [FailureCode.ProviderAddressChanged]: "the provider's identity or Graph address changed: its tokens were dropped",
  [FailureCode.SignInInterrupted]: 'the service restarted while a device code sign-in was waiting',
  [FailureCode.AccountMismatch]: 'the account signed in is not the mailbox; nothing was stored',
  [FailureCode.NoAuthorizationCode]: 'the identity provider returned no authorization code',
  [FailureCode.UnknownTokenError]: 'the token request failed without a recognisable reason (retried)',
  [FailureCode.OutboundAddressRefused]: "the outbound policy refused the server's address (production): change the host or OUTBOUND_ALLOWED_NETWORKS; retried every 10 minutes",
  [FailureCode.ServerUnavailable]:
    'the mail server refused the login for now because something on its side is failing (its authentication backend, a store): not the password or token; retried with backoff, never counted as a rejected login',
  [FailureCode.ConnectionLost]: 'the connection dropped or the server closed it (retried with backoff)',
  [FailureCode.SweepTimeout]: 'the server did not answer a safety check: the connection was dead (reconnected)',
  [FailureCode.ImapError]: 'the IMAP server answered something unexpected',
  [FailureCode.GraphNeedsOAuth]: 'Microsoft Graph needs OAuth 2.0: set the provider authMethod to oauth2',
  [FailureCode.GraphAccessDenied]: 'Microsoft Graph denied access to the mailbox (Mail.Read, or Mail.Send for a send: consent or application permission)',
  [FailureCode.GraphThrottled]: 'Microsoft Graph is throttling the mailbox (retried as Graph asks)',
  [FailureCode.GraphUnauthorized]: 'Microsoft Graph refused the token even after a refresh',
  [FailureCode.GraphSyncFailed]: 'a Graph sync round failed for a reason without a code (retried with backoff)',
  [FailureCode.ListenerUnresponsive]: 'the listener replica holding the mailbox stopped heartbeating; another takes it over',
  [FailureCode.FencedOut]: 'another replica holds the mailbox under a newer lease: this one stopped writing',
};
