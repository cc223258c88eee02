import { FailureCode } from './failure-code';
import { failureCodeDescription } from './failure-code.docs';
import { aadstsCode, graphFailureCode, GraphErrorCode, httpStatusCode, isGraphFailureCode } from './passed-through-codes';

describe('FailureCode', () => {
  it('keeps the wire values the status API has always shown (a CRM matches on them)', () => {
    expect(Object.values(FailureCode).sort()).toEqual(
      [
        'AUTHENTICATIONFAILED',
        'AUTH_FAILED_TOO_LONG',
        'NO_PASSWORD',
        'TOKEN_NOT_OBTAINED',
        'TOKEN_WAITING_FOR_AUTHORIZATION',
        'TOKEN_INVALID',
        'TOKEN_MISSING',
        'TOKEN_EXPIRED',
        'TOKEN_CACHE_MISSING',
        'OAUTH_NOT_CONFIGURED',
        'PROVIDER_ADDRESS_CHANGED',
        'interrupted',
        'account_mismatch',
        'no_code',
        'unknown',
        'OUTBOUND_ADDRESS_REFUSED',
        'UNAVAILABLE',
        'CONNECTION_LOST',
        'SWEEP_TIMEOUT',
        'IMAP_ERROR',
        'GRAPH_NEEDS_OAUTH',
        'GRAPH_ACCESS_DENIED',
        'GRAPH_THROTTLED',
        'GRAPH_UNAUTHORIZED',
        'GRAPH_SYNC_FAILED',
        'LISTENER_UNRESPONSIVE',
        'FENCED_OUT',
      ].sort(),
    );
  });

  it('the documentation names every code and the passed-through patterns', () => {
    const text = failureCodeDescription();
    for (const code of Object.values(FailureCode)) expect(text).toContain(`\`${code}\`: `);
    expect(text).toMatch(/`GRAPH_<code>`/);
    expect(text).toMatch(/`AADSTS<number>`/);
    expect(text).toMatch(/`http_<status>`/);
  });

  it('passed-through codes keep their prefixes', () => {
    expect(graphFailureCode(GraphErrorCode.FolderNotFound)).toBe('GRAPH_FolderNotFound');
    expect(isGraphFailureCode('GRAPH_ErrorInvalidUser')).toBe(true);
    expect(isGraphFailureCode(FailureCode.AuthenticationFailed)).toBe(false);
    expect(isGraphFailureCode(null)).toBe(false);
    expect(aadstsCode('50173')).toBe('AADSTS50173');
    expect(httpStatusCode(503)).toBe('http_503');
  });
});
