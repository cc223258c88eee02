import { IdentityFailureCode, IdentityProviderUnreachableException, refusalOrUnreachable } from './identity-unreachable';

describe('refusalOrUnreachable', () => {
  it.each([
    ['connection refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'ECONNREFUSED'],
    ['msal network error', Object.assign(new Error('Network request failed'), { errorCode: 'network_error', errorMessage: 'Network request failed' }), 'network_error'],
    ['identity provider 503', Object.assign(new Error('OpenID metadata unavailable (HTTP 503)'), { status: 503 }), 'http_503'],
  ])('%s → 503 naming the reason', (_label, error, reason) => {
    let thrown: unknown;
    try {
      refusalOrUnreachable(error);
    } catch (caught) {
      thrown = caught;
    }
    expect(thrown).toBeInstanceOf(IdentityProviderUnreachableException);
    const unreachable = thrown as IdentityProviderUnreachableException;
    expect([unreachable.getStatus(), unreachable.code, unreachable.reason]).toEqual([503, IdentityFailureCode.Unreachable, reason]);
  });

  it('returns a refusal for the caller to answer with its own 4xx', () => {
    const refused = Object.assign(new Error('AADSTS700016: Application not found'), { errorCode: 'unauthorized_client', errorMessage: 'AADSTS700016: Application not found' });
    expect(refusalOrUnreachable(refused)).toMatchObject({ kind: 'configuration', code: 'AADSTS700016' });
  });
});
