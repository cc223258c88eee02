import { AuthError } from '@azure/msal-node';
import { OutboundAddressRefusedError } from '@app/outbound';
import { classifyTokenError } from './token-errors';

/** Shapes as msal-node (ServerError / InteractionRequiredAuthError) and Gaxios throw them. */
const msal = (errorCode: string, errorMessage: string, status?: number) => Object.assign(new Error(errorMessage), { errorCode, errorMessage, status });
const gaxios = (status: number, data: object, headers: Record<string, string> = {}) => Object.assign(new Error('Request failed'), { response: { status, data, headers } });

describe('classifyTokenError', () => {
  it.each([
    ['revoked grant', msal('invalid_grant', 'AADSTS50173: The provided grant has expired due to it being revoked.\r\nTrace ID: x'), 'permanent', 'AADSTS50173'],
    ['inactivity', msal('invalid_grant', 'AADSTS700082: The refresh token has expired due to inactivity.'), 'permanent', 'AADSTS700082'],
    ['consent withdrawn', msal('invalid_grant', 'AADSTS65001: The user or administrator has not consented'), 'permanent', 'AADSTS65001'],
    ['interaction required', msal('interaction_required', 'AADSTS50076: Due to a configuration change…'), 'permanent', 'AADSTS50076'],
    ['google revoked', gaxios(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' }), 'permanent', 'invalid_grant'],
    ['expired client secret', msal('invalid_client', 'AADSTS7000222: The provided client secret keys are expired.'), 'configuration', 'AADSTS7000222'],
    ['unknown app', msal('unauthorized_client', 'AADSTS700016: Application not found'), 'configuration', 'AADSTS700016'],
    ['503', msal('server_error', 'AADSTS90033: A transient error has occurred.', 503), 'transient', 'AADSTS90033'],
    ['429', gaxios(429, { error: 'rate_limit_exceeded' }, { 'retry-after': '7' }), 'transient', 'http_429'],
    ['network', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'transient', 'ECONNREFUSED'],
    ['unknown', new Error('something odd'), 'transient', 'unknown'],
  ])('%s → %s', (_label, error, kind, code) => {
    const classified = classifyTokenError(error);
    expect(classified.kind).toBe(kind);
    expect(classified.code).toBe(code);
  });

  it('keeps the first line of the description and the Retry-After', () => {
    const revoked = classifyTokenError(msal('invalid_grant', 'AADSTS50173: The provided grant has expired due to it being revoked.\r\nTrace ID: abc\r\nCorrelation ID: def'));
    expect(revoked.message).toBe('AADSTS50173: The provided grant has expired due to it being revoked.');
    expect(classifyTokenError(gaxios(429, { error: 'x' }, { 'retry-after': '7' })).retryAfterMs).toBe(7000);
  });

  it('an address the outbound policy refused is a configuration problem with its own code, however it was wrapped', () => {
    const refusal = new OutboundAddressRefusedError('login.evil.test', '169.254.169.254', 'link-local (cloud metadata)');
    const expected = { kind: 'configuration', code: 'OUTBOUND_ADDRESS_REFUSED', message: refusal.message };
    expect(classifyTokenError(refusal)).toEqual(expected);
    // As MsalNetworkClient hands it to msal, and as gaxios (fetch) wraps it.
    expect(classifyTokenError(Object.assign(new AuthError('outbound_address_refused', refusal.message), { cause: refusal }))).toEqual(expected);
    expect(classifyTokenError(Object.assign(new Error('request to https://login.evil.test/token failed'), { cause: new TypeError('fetch failed', { cause: refusal }) }))).toEqual(expected);
  });
});
