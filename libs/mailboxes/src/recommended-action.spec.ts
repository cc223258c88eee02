import { FailureCode } from '@app/failures';
import { recommendedAction, StatusFacts } from './recommended-action';

const healthy: StatusFacts = {
  enabled: true,
  connectionState: 'connected',
  connectionError: null,
  authMethod: 'basic',
  tokenState: null,
  tokenError: null,
  pendingAuthorization: null,
};

describe('recommendedAction', () => {
  it('says nothing when the mailbox is connected', () => {
    expect(recommendedAction(healthy)).toBeNull();
    expect(recommendedAction({ ...healthy, authMethod: 'oauth2', tokenState: 'active' })).toBeNull();
  });

  it('names what a human must do', () => {
    expect(recommendedAction({ ...healthy, enabled: false })).toMatch(/disabled/);
    expect(recommendedAction({ ...healthy, connectionState: 'auth_error', connectionError: { code: 'AUTHENTICATIONFAILED', message: 'Invalid credentials' } })).toBe(
      'Check the password: the server rejected the login (Invalid credentials)',
    );
    expect(recommendedAction({ ...healthy, connectionState: 'backoff', connectionError: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' } })).toBe(
      'The server is unreachable; retrying (last error: connect ECONNREFUSED)',
    );
    // A login refused as "not now" (RFC 5530 UNAVAILABLE) is the server's trouble: not "check the password".
    expect(recommendedAction({ ...healthy, connectionState: 'backoff', connectionError: { code: 'UNAVAILABLE', message: 'Temporary authentication failure.' } })).toBe(
      "Nothing to change on the mailbox: the mail server refuses logins for now because something on its side is failing (Temporary authentication failure.); retrying. If it lasts, ask the server's operator",
    );
    expect(recommendedAction({ ...healthy, authMethod: 'oauth2', tokenState: 'invalid', tokenError: { code: 'invalid_grant', message: 'the refresh token was revoked' } })).toBe(
      'Sign in again: the refresh token was revoked',
    );
    expect(recommendedAction({ ...healthy, authMethod: 'oauth2', tokenState: 'not_obtained' })).toMatch(/^Sign in: no OAuth token/);
    expect(
      recommendedAction({
        ...healthy,
        authMethod: 'oauth2',
        tokenState: 'waiting_for_authorization',
        pendingAuthorization: { userCode: 'ABC-123', verificationUri: 'https://microsoft.com/devicelogin', expiresAt: '2026-11-21T10:15:00.000Z' },
      }),
    ).toBe('Finish signing in at https://microsoft.com/devicelogin with code ABC-123 before 2026-11-21T10:15:00.000Z');
  });

  it('a mailbox whose listener went silent: say so, name the replica, point at the cluster', () => {
    const message = 'listener replica listener-7f9c has not been heard from since 2026-12-04T10:00:00.000Z (lease time 10 s); its last report was connected';
    const action = recommendedAction({ ...healthy, connectionState: 'pending', connectionError: { code: FailureCode.ListenerUnresponsive, message } });
    expect(action).toBe(`No listener is syncing this mailbox: ${message}. Check that the listener replicas are running (GET /v1/cluster will list them); another replica takes the mailbox over by itself`);
    expect(recommendedAction({ ...healthy, connectionState: 'pending' })).toMatch(/^Waiting for a listener replica/);
  });

  it('a mailbox whose provider does not load mail: say why nothing syncs it, name the provider and the setting, not a missing listener', () => {
    const action = recommendedAction({ ...healthy, connectionState: 'pending', providerNotLoading: 'Contoso IMAP' });
    expect(action).toBe('Nothing to do if the mailbox only sends: its provider "Contoso IMAP" does not load mail, so no listener syncs it; to sync it, set loadEmails to true on the provider (and, for IMAP, its host)');
    // A send-only mailbox's send failure comes first: receiving is not expected.
    expect(recommendedAction({ ...healthy, connectionState: 'pending', providerNotLoading: 'Contoso IMAP', sendError: { code: 'SMTP_AUTH_FAILED', message: 'Check the password' } })).toBe('Sending fails: Check the password');
    // Disabled is said first: enabling alone would not be enough, but it comes first.
    expect(recommendedAction({ ...healthy, enabled: false, connectionState: 'disabled', providerNotLoading: 'Contoso IMAP' })).toMatch(/^The mailbox is disabled/);
  });

  describe('Microsoft Graph', () => {
    const graph: StatusFacts = { ...healthy, authMethod: 'oauth2', tokenState: 'active' };
    const failing = (state: 'auth_error' | 'backoff', code: string, message = 'details') => ({ ...graph, connectionState: state, connectionError: { code, message } });

    it('access denied: grant Mail.Read (delegated consent or admin consent for app-only)', () => {
      expect(recommendedAction(failing('auth_error', 'GRAPH_ACCESS_DENIED', 'Access is denied.'))).toMatch(
        /^Grant access: Microsoft Graph denied access to this mailbox \(Access is denied\.\); sign in as the mailbox owner and consent to Mail\.Read/,
      );
      expect(recommendedAction({ ...failing('auth_error', 'GRAPH_ACCESS_DENIED'), appOnly: true })).toMatch(/Mail\.Read application permission with admin consent/);
    });

    it('needs OAuth, throttled, unreachable, unknown folder or user', () => {
      expect(recommendedAction(failing('auth_error', 'GRAPH_NEEDS_OAUTH'))).toMatch(/^Microsoft Graph needs OAuth 2\.0: set the provider authMethod to oauth2/);
      expect(recommendedAction(failing('backoff', 'GRAPH_THROTTLED', 'Application is over its MailboxConcurrency limit.'))).toMatch(
        /^Microsoft Graph is throttling this mailbox; the listener waits as Graph asks and retries \(Application is over/,
      );
      expect(recommendedAction(failing('backoff', 'GRAPH_ECONNREFUSED', 'connect ECONNREFUSED'))).toBe('Microsoft Graph is unreachable or failing; retrying (connect ECONNREFUSED)');
      expect(recommendedAction(failing('backoff', 'GRAPH_FolderNotFound', 'Folder "Nope" does not exist'))).toBe('Check the folder names: Folder "Nope" does not exist');
      expect(recommendedAction(failing('backoff', 'GRAPH_ErrorInvalidUser'))).toMatch(/^Check the mailbox address/);
      // Token problems come first: the Graph error is a consequence.
      expect(recommendedAction({ ...failing('auth_error', 'GRAPH_ACCESS_DENIED'), tokenState: 'invalid', tokenError: { code: 'invalid_grant', message: 'revoked' } })).toBe('Sign in again: revoked');
    });

    it('polling (no PUBLIC_BASE_URL) is mentioned only while nothing else needs doing', () => {
      expect(recommendedAction({ ...graph, polling: true })).toMatch(/^Optional: set PUBLIC_BASE_URL/);
      expect(recommendedAction({ ...failing('backoff', 'GRAPH_THROTTLED'), polling: true })).toMatch(/^Microsoft Graph is throttling/);
      expect(recommendedAction({ ...graph, polling: false })).toBeNull();
    });
  });

  it('an address the outbound policy refused: check the address or allow its network (the listener retries rarely)', () => {
    const message =
      'Refused to connect to imap.contoso.test (127.0.0.1): loopback addresses are not reached in production; if this server is meant to be reached, add its network to OUTBOUND_ALLOWED_NETWORKS (e.g. 127.0.0.1/32)';
    const expected = `Check the provider's server address: ${message}. The listener tries again every 10 minutes`;
    expect(recommendedAction({ ...healthy, connectionState: 'backoff', connectionError: { code: 'OUTBOUND_ADDRESS_REFUSED', message } })).toBe(expected);
    // The identity provider's address refused: the token stays active, the mailbox cannot log in.
    expect(recommendedAction({ ...healthy, authMethod: 'oauth2', tokenState: 'active', connectionState: 'auth_error', tokenError: { code: 'OUTBOUND_ADDRESS_REFUSED', message } })).toBe(expected);
  });

  it('tokens dropped because the provider\'s identity or Graph address changed: sign in again, saying why', () => {
    const tokenError = { code: 'PROVIDER_ADDRESS_CHANGED', message: "the provider's oauth.authorityHost changed, and tokens of the old address are not sent to the new one" };
    expect(recommendedAction({ ...healthy, connectionState: 'auth_error', authMethod: 'oauth2', tokenState: 'not_obtained', tokenError })).toBe(
      "Sign in again: the provider's oauth.authorityHost changed, and tokens of the old address are not sent to the new one (start a device code or authorization link, or import a token)",
    );
  });

  it('a mailbox that receives but cannot send says so; what stops receiving comes first', () => {
    const sendError = { code: 'SMTP_AUTH_FAILED', message: 'The server refused the login (535 5.7.8 Error: authentication failed): Check the password' };
    expect(recommendedAction({ ...healthy, sendError })).toBe(`Sending fails: ${sendError.message}`);
    expect(recommendedAction({ ...healthy, connectionState: 'pending', sendError })).toBe(`Sending fails: ${sendError.message}`);
    expect(recommendedAction({ ...healthy, connectionState: 'backoff', connectionError: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, sendError })).toMatch(/^The server is unreachable/);
    expect(recommendedAction({ ...healthy, enabled: false, sendError })).toMatch(/disabled/);
  });
});
