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
});
