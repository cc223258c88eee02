import { FailureCode, graphFailureCode, GraphErrorCode, isGraphFailureCode } from '@app/failures';
import { ConnectionState, TokenState } from '@app/persistence';

export interface StatusFacts {
  enabled: boolean;
  connectionState: ConnectionState;
  connectionError: { code: string; message: string } | null;
  authMethod: 'basic' | 'oauth2';
  tokenState: TokenState | null;
  tokenError: { code: string; message: string } | null;
  pendingAuthorization: { userCode?: string; verificationUri?: string; expiresAt?: string } | null;
  /** Microsoft Graph: app-only (client credentials) rather than a token per mailbox. */
  appOnly?: boolean;
  /** Microsoft Graph: at least one folder is polled by delta because the listener has no PUBLIC_BASE_URL. */
  polling?: boolean;
  /**
   * The provider's name when it does not load mail (loadEmails false, or an IMAP provider without a host):
   * no listener runs its mailboxes, which wait as `pending`.
   */
  providerNotLoading?: string | null;
  /** Why the mailbox cannot send, while it cannot (mailbox_send_status). */
  sendError?: { code: string; message: string } | null;
}

/** What to do about a Graph failure the listener reported (codes `GRAPH_…`), or null when the generic advice fits. */
function graphAction(facts: StatusFacts): string | null {
  const error = facts.connectionError;
  if (!error || !isGraphFailureCode(error.code)) return null;
  const detail = ` (${error.message})`;
  switch (error.code) {
    case FailureCode.GraphAccessDenied:
      return facts.appOnly
        ? `Grant access: Microsoft Graph denied the app access to this mailbox${detail}; give the app the Mail.Read application permission with admin consent (and check any application access policy that limits it to some mailboxes)`
        : `Grant access: Microsoft Graph denied access to this mailbox${detail}; sign in as the mailbox owner and consent to Mail.Read (an administrator may have to grant admin consent for the organization)`;
    case FailureCode.GraphNeedsOAuth:
      return 'Microsoft Graph needs OAuth 2.0: set the provider authMethod to oauth2 with a client id, then sign in';
    case FailureCode.GraphThrottled:
      return `Microsoft Graph is throttling this mailbox; the listener waits as Graph asks and retries${detail}. If it lasts, other applications may be using up the mailbox's request quota`;
    case graphFailureCode(GraphErrorCode.FolderNotFound):
      return `Check the folder names: ${error.message}`;
    case graphFailureCode(GraphErrorCode.ErrorInvalidUser):
    case graphFailureCode(GraphErrorCode.MailboxNotEnabledForRESTAPI):
      return `Check the mailbox address: Microsoft Graph does not know it or it is not an Exchange Online mailbox${detail}`;
    default:
      return facts.connectionState === 'backoff' ? `Microsoft Graph is unreachable or failing; retrying${detail}` : null;
  }
}

/**
 * One sentence telling a human what to do about a mailbox, or null when nothing: what stops it syncing
 * first, else what stops it sending (its message already says what to do: "Check the password" …).
 */
export function recommendedAction(facts: StatusFacts): string | null {
  const receiving = receivingAction(facts);
  // Receiving works (or waits for a listener): the optional or waiting advice gives way to the send failure.
  const healthy = facts.enabled && (facts.connectionState === 'connected' || (facts.connectionState === 'pending' && !facts.connectionError));
  if (facts.sendError && (receiving === null || healthy)) return `Sending fails: ${facts.sendError.message}`;
  return receiving;
}

function receivingAction(facts: StatusFacts): string | null {
  if (!facts.enabled || facts.connectionState === 'disabled') return 'The mailbox is disabled; enable it (PATCH enabled=true) to resume syncing';
  if (facts.providerNotLoading) {
    return `Nothing to do if the mailbox only sends: its provider "${facts.providerNotLoading}" does not load mail, so no listener syncs it; to sync it, set loadEmails to true on the provider (and, for IMAP, its host)`;
  }
  if (facts.authMethod === 'oauth2') {
    switch (facts.tokenState) {
      case null:
      case 'not_obtained':
        return facts.tokenError?.code === FailureCode.ProviderAddressChanged
          ? `Sign in again: ${facts.tokenError.message} (start a device code or authorization link, or import a token)`
          : 'Sign in: no OAuth token has been obtained yet (start a device code or authorization link, or import a token)';
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
  // The outbound policy refused the mail server's or the identity provider's address: nothing reached it.
  const refused = [facts.connectionError, facts.tokenError].find((error) => error?.code === FailureCode.OutboundAddressRefused);
  if (refused && (facts.connectionState === 'backoff' || facts.connectionState === 'auth_error')) return `Check the provider's server address: ${refused.message}. The listener tries again every 10 minutes`;
  if (facts.connectionState === 'auth_error' || facts.connectionState === 'backoff') {
    const graph = graphAction(facts);
    if (graph) return graph;
  }
  switch (facts.connectionState) {
    case 'auth_error':
      return facts.authMethod === 'basic'
        ? `Check the password: the server rejected the login${facts.connectionError ? ` (${facts.connectionError.message})` : ''}`
        : `Sign in again: the server rejected the token${facts.connectionError ? ` (${facts.connectionError.message})` : ''}`;
    case 'backoff':
      if (facts.connectionError?.code === FailureCode.ServerUnavailable) {
        return `Nothing to change on the mailbox: the mail server refuses logins for now because something on its side is failing (${facts.connectionError.message}); retrying. If it lasts, ask the server's operator`;
      }
      return `The server is unreachable; retrying${facts.connectionError ? ` (last error: ${facts.connectionError.message})` : ''}`;
    case 'pending':
      if (facts.connectionError?.code === FailureCode.ListenerUnresponsive) {
        return `No listener is syncing this mailbox: ${facts.connectionError.message}. Check that the listener replicas are running (GET /v1/cluster will list them); another replica takes the mailbox over by itself`;
      }
      return 'Waiting for a listener replica to pick the mailbox up; if this lasts more than a minute, check that the listener is running';
    case 'connected':
      return facts.polling
        ? 'Optional: set PUBLIC_BASE_URL (the public https address of the API) for the listener so Microsoft Graph pushes new mail; without it new mail is found by polling, which is slower and costs more requests'
        : null;
    default:
      return null;
  }
}
