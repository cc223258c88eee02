import { ConnectionState, TokenState } from '@app/persistence';

export interface StatusFacts {
  enabled: boolean;
  connectionState: ConnectionState;
  connectionError: { code: string; message: string } | null;
  authMethod: 'basic' | 'oauth2';
  tokenState: TokenState | null;
  tokenError: { code: string; message: string } | null;
  pendingAuthorization: { userCode?: string; verificationUri?: string; expiresAt?: string } | null;
}

/** One sentence telling a human what to do about a mailbox that is not syncing, or null when nothing. */
export function recommendedAction(facts: StatusFacts): string | null {
  if (!facts.enabled || facts.connectionState === 'disabled') return 'The mailbox is disabled; enable it (PATCH enabled=true) to resume syncing';
  if (facts.authMethod === 'oauth2') {
    switch (facts.tokenState) {
      case null:
      case 'not_obtained':
        return 'Sign in: no OAuth token has been obtained yet (start a device code or authorization link, or import a token)';
      case 'waiting_for_authorization': {
        const pending = facts.pendingAuthorization;
        return pending?.verificationUri && pending.userCode
          ? `Finish signing in at ${pending.verificationUri} with code ${pending.userCode}${pending.expiresAt ? ` before ${pending.expiresAt}` : ''}`
          : 'Finish signing in: an authorization is pending';
      }
      case 'invalid':
        return `Sign in again: ${facts.tokenError?.message ?? 'the refresh token is no longer valid'}`;
      case 'active':
        break;
    }
  }
  switch (facts.connectionState) {
    case 'auth_error':
      return facts.authMethod === 'basic'
        ? `Check the password: the server rejected the login${facts.connectionError ? ` (${facts.connectionError.message})` : ''}`
        : `Sign in again: the server rejected the token${facts.connectionError ? ` (${facts.connectionError.message})` : ''}`;
    case 'backoff':
      return `The server is unreachable; retrying${facts.connectionError ? ` (last error: ${facts.connectionError.message})` : ''}`;
    case 'pending':
      return 'Waiting for a listener replica to pick the mailbox up; if this lasts more than a minute, check that the listener is running';
    default:
      return null;
  }
}
