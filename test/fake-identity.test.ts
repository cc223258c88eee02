/**
 * The fake identity servers of the test library, driven by the real client libraries (msal-node,
 * google-auth-library) over real HTTP(S): if these pass, code written against the fakes speaks the
 * same wire protocol as against Entra ID and Google.
 */
import {
  AuthError,
  ConfidentialClientApplication,
  CryptoProvider,
  InteractionRequiredAuthError,
  PublicClientApplication,
  ServerError,
  type AuthenticationResult,
  type Configuration,
  type DeviceCodeRequest,
} from '@azure/msal-node';
import { OAuth2Client } from 'google-auth-library';
import { Agent, request } from 'undici';
import { OutboundPolicy } from '@app/outbound';
import { MsalNetworkClient } from '../libs/oauth/src/microsoft/msal-network-client';
import { FakeEntraId, decodeJwtPayload } from '../libs/testing/src/fake-entra';
import { FakeGoogleOAuth } from '../libs/testing/src/fake-google';

type DeviceCodeResponse = Parameters<DeviceCodeRequest['deviceCodeCallback']>[0];

const PUBLIC_APP = '11111111-aaaa-4bbb-8ccc-000000000001';
const WEB_APP = '11111111-aaaa-4bbb-8ccc-000000000002';
const WEB_SECRET = 'web-secret~value';
const REDIRECT = 'http://127.0.0.1:3000/v1/oauth/callback';
const IMAP_SCOPE = 'https://outlook.office.com/IMAP.AccessAsUser.All';

interface SerializedCache {
  Account: Record<string, { username: string; home_account_id: string; environment: string }>;
  RefreshToken: Record<string, { secret: string; home_account_id: string; environment: string; client_id: string }>;
  AccessToken: Record<string, { secret: string; target: string }>;
}

describe('fake Entra ID with msal-node', () => {
  let entra: FakeEntraId;
  let clock: number;
  let network: MsalNetworkClient;
  let tls: Agent;

  const pcaConfig = (tenant = 'organizations'): Configuration => ({
    auth: { clientId: PUBLIC_APP, ...entra.msalAuthOptions(tenant) },
    system: { networkClient: network },
  });
  const ccaConfig = (tenant = 'organizations'): Configuration => ({
    auth: { clientId: WEB_APP, clientSecret: WEB_SECRET, ...entra.msalAuthOptions(tenant) },
    system: { networkClient: network },
  });
  const cacheOf = (app: PublicClientApplication | ConfidentialClientApplication): SerializedCache =>
    JSON.parse(app.getTokenCache().serialize()) as SerializedCache;
  const refreshTokensIn = (app: PublicClientApplication | ConfidentialClientApplication): string[] =>
    Object.values(cacheOf(app).RefreshToken).map((rt) => rt.secret);

  /** Device code sign-in of `username` through msal, approved before msal's first poll (fast). */
  async function signInWithDeviceCode(pca: PublicClientApplication, username: string, scopes = [IMAP_SCOPE]): Promise<AuthenticationResult> {
    const result = await pca.acquireTokenByDeviceCode({
      scopes,
      deviceCodeCallback: (response: DeviceCodeResponse) => entra.approveDeviceCode(response.userCode, username),
    });
    if (!result) throw new Error('no result');
    return result;
  }

  async function postForm(url: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown>; headers: Record<string, unknown> }> {
    const response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      dispatcher: tls,
    });
    return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown>, headers: response.headers };
  }

  beforeAll(async () => {
    clock = Date.now();
    entra = await FakeEntraId.start({ now: () => clock });
    network = new MsalNetworkClient({ ca: entra.caPem, outbound: OutboundPolicy.allowAll() });
    tls = new Agent({ connect: { ca: entra.caPem } });
    entra.setDeviceCodeInterval(1);
    entra.registerApp({ clientId: PUBLIC_APP, displayName: 'Mail Listener (device)' });
    entra.registerApp({ clientId: WEB_APP, clientSecret: WEB_SECRET, redirectUris: [REDIRECT], displayName: 'Mail Listener', appRoles: ['Mail.Read'] });
    entra.addUser({ username: 'ana@contoso.com' });
    entra.addUser({ username: 'bo@contoso.com' });
    entra.addUser({ username: 'cy@fabrikam.com' });
  });

  afterAll(async () => {
    await network?.close();
    await tls?.close();
    await entra?.stop();
  });

  beforeEach(() => {
    clock = Date.now();
  });

  it('publishes OpenID metadata, instance discovery and JWKS like the real endpoints', async () => {
    const get = async (path: string) => {
      const response = await request(`${entra.authorityHost}${path}`, { dispatcher: tls });
      return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
    };
    const common = await get('/common/v2.0/.well-known/openid-configuration');
    expect(common.status).toBe(200);
    expect(common.body).toMatchObject({
      issuer: `${entra.authorityHost}/{tenantid}/v2.0`,
      token_endpoint: `${entra.authorityHost}/common/oauth2/v2.0/token`,
      authorization_endpoint: `${entra.authorityHost}/common/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${entra.authorityHost}/common/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${entra.authorityHost}/common/oauth2/v2.0/logout`,
      jwks_uri: `${entra.authorityHost}/common/discovery/v2.0/keys`,
      response_types_supported: expect.arrayContaining(['code']),
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    });
    const { tenantId } = entra.addUser({ username: 'dee@contoso.com' });
    const byDomain = await get('/contoso.com/v2.0/.well-known/openid-configuration');
    expect(byDomain.body.issuer).toBe(`${entra.authorityHost}/${tenantId}/v2.0`);
    expect(byDomain.body.token_endpoint).toBe(`${entra.authorityHost}/${tenantId}/oauth2/v2.0/token`);

    const discovery = await get(
      `/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(`${entra.authorityHost}/organizations/oauth2/v2.0/authorize`)}`,
    );
    expect(discovery.body).toMatchObject({
      tenant_discovery_endpoint: `${entra.authorityHost}/organizations/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: entra.host, preferred_cache: entra.host, aliases: expect.arrayContaining([entra.host]) }],
    });

    const keys = await get('/common/discovery/v2.0/keys');
    expect(keys.body.keys).toEqual([expect.objectContaining({ kty: 'RSA', use: 'sig', kid: expect.any(String), n: expect.any(String), e: 'AQAB' })]);
  });

  it('device code flow: msal polls through authorization_pending until the user approves', async () => {
    const pca = new PublicClientApplication(pcaConfig());
    const shown: DeviceCodeResponse[] = [];
    const result = await pca.acquireTokenByDeviceCode({
      scopes: [IMAP_SCOPE],
      deviceCodeCallback: (response) => {
        shown.push(response);
        // Let msal see authorization_pending at least once before the user finishes.
        setTimeout(() => entra.approveDeviceCode(response.userCode, 'ana@contoso.com'), 1200);
      },
    });
    expect(shown[0]).toMatchObject({
      userCode: entra.lastDeviceCode()?.userCode,
      verificationUri: `${entra.authorityHost}/devicelogin`,
      expiresIn: 900,
      interval: 1,
    });
    expect(shown[0]?.message).toBe(
      `To sign in, use a web browser to open the page ${entra.authorityHost}/devicelogin and enter the code ${shown[0]?.userCode} to authenticate.`,
    );
    expect(result?.account?.username).toBe('ana@contoso.com');
    expect(result?.scopes).toEqual(expect.arrayContaining([IMAP_SCOPE]));
    expect(entra.isAccessTokenValid(result?.accessToken ?? '')).toBe(true);
    expect(decodeJwtPayload(result?.accessToken ?? '')).toMatchObject({ aud: 'https://outlook.office.com', scp: 'IMAP.AccessAsUser.All', upn: 'ana@contoso.com' });
    expect(result?.idTokenClaims).toMatchObject({ preferred_username: 'ana@contoso.com', ver: '2.0', aud: PUBLIC_APP });
    const polls = entra.tokenRequests.filter((r) => r.grantType === 'device_code' || r.grantType.endsWith(':device_code'));
    expect(polls.map((r) => r.status)).toContain(400);
    expect(polls.at(-1)).toMatchObject({ status: 200, username: 'ana@contoso.com', grantType: 'device_code' });
    expect(refreshTokensIn(pca)).toHaveLength(1);
  });

  it('device code flow: a declined or expired code ends msal polling with the server error', async () => {
    const pca = new PublicClientApplication(pcaConfig());
    const declined = pca.acquireTokenByDeviceCode({
      scopes: [IMAP_SCOPE],
      deviceCodeCallback: (response) => setTimeout(() => entra.declineDeviceCode(response.userCode), 50),
    });
    await expect(declined).rejects.toMatchObject({ errorCode: 'post_request_failed', errorMessage: expect.stringContaining('authorization_declined') });

    const expired = pca.acquireTokenByDeviceCode({
      scopes: [IMAP_SCOPE],
      deviceCodeCallback: (response) => setTimeout(() => entra.expireDeviceCode(response.userCode), 50),
    });
    await expect(expired).rejects.toMatchObject({ errorCode: 'post_request_failed', errorMessage: expect.stringContaining('expired_token') });

    // Expiry by the fake's clock works the same way.
    const byClock = pca.acquireTokenByDeviceCode({
      scopes: [IMAP_SCOPE],
      deviceCodeCallback: () => {
        clock += 901_000;
      },
    });
    await expect(byClock).rejects.toMatchObject({ errorMessage: expect.stringContaining('expired_token') });
  });

  it('device code flow over raw HTTP accepts the plain "device_code" grant type and answers in Entra error format', async () => {
    const codeResponse = await postForm(entra.deviceCodeEndpoint(), { client_id: PUBLIC_APP, scope: `offline_access openid ${IMAP_SCOPE}` });
    expect(codeResponse.status).toBe(200);
    const deviceCode = codeResponse.body.device_code as string;
    const pending = await postForm(entra.tokenEndpoint(), { client_id: PUBLIC_APP, grant_type: 'device_code', device_code: deviceCode });
    expect(pending.status).toBe(400);
    expect(pending.body).toMatchObject({
      error: 'authorization_pending',
      error_codes: [70016],
      trace_id: expect.any(String),
      correlation_id: expect.any(String),
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/),
      error_uri: `${entra.authorityHost}/error?code=70016`,
    });
    expect(pending.body.error_description).toMatch(/^AADSTS70016: .*\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: /);

    entra.approveDeviceCode(codeResponse.body.user_code as string, 'bo@contoso.com');
    const tokens = await postForm(entra.tokenEndpoint(), { client_id: PUBLIC_APP, grant_type: 'device_code', device_code: deviceCode });
    expect(tokens.status).toBe(200);
    expect(tokens.body).toMatchObject({
      token_type: 'Bearer',
      scope: expect.stringContaining(IMAP_SCOPE),
      expires_in: 3600,
      ext_expires_in: 3600,
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      id_token: expect.any(String),
    });
    expect(tokens.body.client_info).toBeUndefined(); // only when client_info=1 is asked for
    const again = await postForm(entra.tokenEndpoint(), {
      client_id: PUBLIC_APP,
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: deviceCode,
    });
    expect(again.body.error).toBe('bad_verification_code');
  });

  it('authorization code flow with PKCE, state and nonce through getAuthCodeUrl → 302 → acquireTokenByCode', async () => {
    const cca = new ConfidentialClientApplication(ccaConfig());
    const crypto = new CryptoProvider();
    const { verifier, challenge } = await crypto.generatePkceCodes();
    const state = crypto.createNewGuid();
    const nonce = crypto.createNewGuid();
    const authUrl = await cca.getAuthCodeUrl({
      scopes: [IMAP_SCOPE],
      redirectUri: REDIRECT,
      state,
      nonce,
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
      loginHint: 'ana@contoso.com',
    });
    expect(authUrl.startsWith(`${entra.authorityHost}/organizations/oauth2/v2.0/authorize?`)).toBe(true);

    entra.authorizeAs('ana@contoso.com');
    const redirect = await request(authUrl, { dispatcher: tls });
    await redirect.body.dump();
    expect(redirect.statusCode).toBe(302);
    const location = new URL(String(redirect.headers.location));
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get('state')).toBe(state);
    const code = location.searchParams.get('code') as string;
    const clientInfo = location.searchParams.get('client_info') as string;
    expect(JSON.parse(Buffer.from(clientInfo, 'base64url').toString())).toEqual({
      uid: entra.getUser('ana@contoso.com')?.oid,
      utid: entra.getUser('ana@contoso.com')?.tenantId,
    });

    // A wrong verifier is refused (and does not burn the code).
    await expect(
      cca.acquireTokenByCode({ code, scopes: [IMAP_SCOPE], redirectUri: REDIRECT, codeVerifier: `${verifier}x`, state, nonce }, { code, state, client_info: clientInfo }),
    ).rejects.toMatchObject({ errorCode: 'invalid_grant', errorMessage: expect.stringContaining('AADSTS501481') });

    const result = await cca.acquireTokenByCode(
      { code, scopes: [IMAP_SCOPE], redirectUri: REDIRECT, codeVerifier: verifier, state, nonce },
      { code, state, client_info: clientInfo },
    );
    expect(result.account?.username).toBe('ana@contoso.com');
    expect(result.idTokenClaims).toMatchObject({ nonce, aud: WEB_APP, iss: `${entra.authorityHost}/${entra.getUser('ana@contoso.com')?.tenantId}/v2.0` });
    expect(refreshTokensIn(cca)).toHaveLength(1);

    // Codes are single use.
    await expect(
      cca.acquireTokenByCode({ code, scopes: [IMAP_SCOPE], redirectUri: REDIRECT, codeVerifier: verifier }),
    ).rejects.toMatchObject({ errorCode: 'invalid_grant', errorMessage: expect.stringContaining('AADSTS54005') });

    // A tampered nonce is caught by msal.
    const second = await request(
      await cca.getAuthCodeUrl({ scopes: [IMAP_SCOPE], redirectUri: REDIRECT, nonce: 'n-1', codeChallenge: challenge, codeChallengeMethod: 'S256' }),
      { dispatcher: tls },
    );
    await second.body.dump();
    const code2 = new URL(String(second.headers.location)).searchParams.get('code') as string;
    await expect(
      cca.acquireTokenByCode({ code: code2, scopes: [IMAP_SCOPE], redirectUri: REDIRECT, codeVerifier: verifier, nonce: 'n-2' }),
    ).rejects.toMatchObject({ errorCode: 'nonce_mismatch' });

    // msal-node 7: when the authorize request carried a nonce, the token request must carry it too.
    const third = await request(
      await cca.getAuthCodeUrl({ scopes: [IMAP_SCOPE], redirectUri: REDIRECT, nonce: 'n-3', codeChallenge: challenge, codeChallengeMethod: 'S256' }),
      { dispatcher: tls },
    );
    await third.body.dump();
    const code3 = new URL(String(third.headers.location)).searchParams.get('code') as string;
    await expect(cca.acquireTokenByCode({ code: code3, scopes: [IMAP_SCOPE], redirectUri: REDIRECT, codeVerifier: verifier })).rejects.toMatchObject({
      errorCode: 'nonce_mismatch',
    });
  });

  it('authorize: a declining user and an unregistered redirect URI', async () => {
    entra.authorizeAs(null);
    const declined = await request(
      `${entra.authorizeEndpoint()}?${new URLSearchParams({ client_id: WEB_APP, response_type: 'code', redirect_uri: REDIRECT, scope: IMAP_SCOPE, state: 's1' })}`,
      { dispatcher: tls },
    );
    await declined.body.dump();
    const location = new URL(String(declined.headers.location));
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('error_description')).toMatch(/^AADSTS65004: /);
    expect(location.searchParams.get('state')).toBe('s1');

    entra.authorizeAs('ana@contoso.com');
    const wrongRedirect = await request(
      `${entra.authorizeEndpoint()}?${new URLSearchParams({ client_id: WEB_APP, response_type: 'code', redirect_uri: 'https://evil.example/cb', scope: IMAP_SCOPE })}`,
      { dispatcher: tls },
    );
    // Like Entra: an error page, never a redirect to an unregistered address.
    expect(wrongRedirect.statusCode).toBe(400);
    expect(await wrongRedirect.body.text()).toContain('AADSTS50011');
  });

  it('sign-in pages for browser-driven tests: /authorize without a preset user, /devicelogin', async () => {
    entra.authorizeAs(undefined);
    const query = new URLSearchParams({ client_id: WEB_APP, response_type: 'code', redirect_uri: REDIRECT, scope: IMAP_SCOPE, state: 's2' });
    const page = await request(`${entra.authorizeEndpoint()}?${query}`, { dispatcher: tls });
    expect(page.statusCode).toBe(200);
    expect(await page.body.text()).toContain('name="login"');
    const submitted = await request(entra.authorizeEndpoint(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams([...query, ['login', 'bo@contoso.com'], ['fake_action', 'accept']]).toString(),
      dispatcher: tls,
    });
    await submitted.body.dump();
    expect(submitted.statusCode).toBe(302);
    expect(new URL(String(submitted.headers.location)).searchParams.get('code')).toBeTruthy();
    // login_hint of a known user signs in directly.
    const hinted = await request(`${entra.authorizeEndpoint()}?${query}&login_hint=ana%40contoso.com`, { dispatcher: tls });
    await hinted.body.dump();
    expect(hinted.statusCode).toBe(302);

    const device = await postForm(entra.deviceCodeEndpoint(), { client_id: PUBLIC_APP, scope: IMAP_SCOPE });
    const approved = await request(`${entra.authorityHost}/devicelogin`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ code: device.body.user_code as string, login: 'ana@contoso.com', action: 'approve' }).toString(),
      dispatcher: tls,
    });
    expect(approved.statusCode).toBe(200);
    await approved.body.dump();
    expect(entra.lastDeviceCode()).toMatchObject({ status: 'approved', username: 'ana@contoso.com', tenant: 'organizations' });
  });

  it('refresh: acquireTokenSilent({ forceRefresh }) rotates the refresh token in msal’s cache', async () => {
    const pca = new PublicClientApplication(pcaConfig());
    const first = await signInWithDeviceCode(pca, 'bo@contoso.com');
    const [rt1] = refreshTokensIn(pca);
    const cache = cacheOf(pca);
    const [rtEntry] = Object.values(cache.RefreshToken);
    expect(rtEntry).toMatchObject({ environment: entra.host, client_id: PUBLIC_APP, home_account_id: first.account?.homeAccountId });

    const before = entra.tokenRequests.filter((r) => r.grantType === 'refresh_token').length;
    const refreshed = await pca.acquireTokenSilent({ account: first.account!, scopes: [IMAP_SCOPE], forceRefresh: true });
    expect(refreshed.accessToken).not.toBe(first.accessToken);
    const [rt2] = refreshTokensIn(pca);
    expect(rt2).not.toBe(rt1);
    expect(entra.tokenRequests.filter((r) => r.grantType === 'refresh_token')).toHaveLength(before + 1);
    expect(entra.liveRefreshTokens('bo@contoso.com', PUBLIC_APP)).toContain(rt2);

    // Without forceRefresh msal serves the cached access token: no request.
    await pca.acquireTokenSilent({ account: first.account!, scopes: [IMAP_SCOPE] });
    expect(entra.tokenRequests.filter((r) => r.grantType === 'refresh_token')).toHaveLength(before + 1);
  });

  it('refresh token reuse is detected: the old token fails with invalid_grant and the grant is revoked', async () => {
    const pca = new PublicClientApplication(pcaConfig());
    const first = await signInWithDeviceCode(pca, 'cy@fabrikam.com');
    const [rt1] = refreshTokensIn(pca);
    await pca.acquireTokenSilent({ account: first.account!, scopes: [IMAP_SCOPE], forceRefresh: true });

    const replay = await postForm(entra.tokenEndpoint(), { client_id: PUBLIC_APP, grant_type: 'refresh_token', refresh_token: rt1 as string, scope: IMAP_SCOPE });
    expect(replay.status).toBe(400);
    expect(replay.body).toMatchObject({ error: 'invalid_grant', error_codes: [54005] });
    // The rotated-in token died with the grant.
    await expect(pca.acquireTokenSilent({ account: first.account!, scopes: [IMAP_SCOPE], forceRefresh: true })).rejects.toMatchObject({
      errorCode: 'invalid_grant',
      errorMessage: expect.stringContaining('AADSTS50173'),
    });
  });

  it('two refreshers racing with the same refresh token: exactly one wins', async () => {
    const pca = new PublicClientApplication(pcaConfig());
    await signInWithDeviceCode(pca, 'ana@contoso.com');
    const [rt] = refreshTokensIn(pca);
    entra.setTokenResponseDelay(100);
    try {
      const results = await Promise.all(
        [1, 2].map(() => postForm(entra.tokenEndpoint(), { client_id: PUBLIC_APP, grant_type: 'refresh_token', refresh_token: rt as string, scope: IMAP_SCOPE })),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
    } finally {
      entra.setTokenResponseDelay(0);
    }
  });

  it('acquireTokenByRefreshToken({ forceCache: true }) imports a refresh token into msal’s cache', async () => {
    const source = new PublicClientApplication(pcaConfig());
    await signInWithDeviceCode(source, 'ana@contoso.com');
    const [imported] = refreshTokensIn(source);

    const pca = new PublicClientApplication(pcaConfig());
    const result = await pca.acquireTokenByRefreshToken({ refreshToken: imported as string, scopes: [IMAP_SCOPE], forceCache: true });
    expect(result?.account?.username).toBe('ana@contoso.com');
    const accounts = await pca.getAllAccounts();
    expect(accounts.map((a) => a.username)).toEqual(['ana@contoso.com']);
    const [stored] = refreshTokensIn(pca);
    expect(stored).toBeDefined();
    expect(stored).not.toBe(imported); // rotated: msal stored the new one
    expect(entra.liveRefreshTokens('ana@contoso.com', PUBLIC_APP)).toContain(stored);

    // Without forceCache msal answers but keeps nothing (no account in the cache).
    const other = new PublicClientApplication(pcaConfig());
    await other.acquireTokenByRefreshToken({ refreshToken: stored as string, scopes: [IMAP_SCOPE] });
    expect(await other.getAllAccounts()).toEqual([]);
    expect(refreshTokensIn(other)).toEqual([]);
  });

  it('revoked grants fail permanently with invalid_grant and the AADSTS code (50173, 65001, 700082)', async () => {
    const cases = [
      { kind: 'revoked' as const, code: 'AADSTS50173', subError: 'bad_token' },
      { kind: 'consent_withdrawn' as const, code: 'AADSTS65001', subError: 'consent_required' },
      { kind: 'expired' as const, code: 'AADSTS700082', subError: 'bad_token' },
    ];
    for (const { kind, code, subError } of cases) {
      const pca = new PublicClientApplication(pcaConfig());
      const signedIn = await signInWithDeviceCode(pca, 'bo@contoso.com');
      entra.revokeGrants('bo@contoso.com', kind);
      const error = await pca.acquireTokenSilent({ account: signedIn.account!, scopes: [IMAP_SCOPE], forceRefresh: true }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InteractionRequiredAuthError);
      expect(error).toMatchObject({ errorCode: 'invalid_grant', subError, errorMessage: expect.stringContaining(code) });
      if (subError === 'bad_token') expect(refreshTokensIn(pca)).toEqual([]); // msal drops a bad refresh token
    }
  });

  it('refresh tokens die after 90 days of inactivity by the fake clock', async () => {
    const pca = new PublicClientApplication(pcaConfig());
    const signedIn = await signInWithDeviceCode(pca, 'cy@fabrikam.com');
    clock += 91 * 24 * 3600 * 1000;
    await expect(pca.acquireTokenSilent({ account: signedIn.account!, scopes: [IMAP_SCOPE], forceRefresh: true })).rejects.toMatchObject({
      errorCode: 'invalid_grant',
      errorMessage: expect.stringContaining('AADSTS700082'),
    });
  });

  it('transient 503 and 429 surface as ServerError (temporarily_unavailable, not interaction-required); msal then throttles that request itself', async () => {
    const pca = new PublicClientApplication(pcaConfig());
    const signedIn = await signInWithDeviceCode(pca, 'ana@contoso.com');
    const rtBefore = refreshTokensIn(pca);

    entra.failNextTokenRequests(1, { status: 503, retryAfterSeconds: 1 });
    const error = await pca.acquireTokenSilent({ account: signedIn.account!, scopes: [IMAP_SCOPE], forceRefresh: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ServerError);
    expect(error).not.toBeInstanceOf(InteractionRequiredAuthError);
    // msal does not copy the HTTP status into ServerError.status for token responses; errorCode/errorNo tell.
    expect(error).toMatchObject({ errorCode: 'temporarily_unavailable', errorNo: 90033, errorMessage: expect.stringContaining('AADSTS90033') });
    expect(refreshTokensIn(pca)).toEqual(rtBefore); // the refresh token survives

    // msal remembers the 503 + Retry-After and refuses to call /token again for that request until it passes.
    const count = entra.tokenRequests.length;
    await expect(pca.acquireTokenSilent({ account: signedIn.account!, scopes: [IMAP_SCOPE], forceRefresh: true })).rejects.toBeInstanceOf(ServerError);
    expect(entra.tokenRequests.length).toBe(count);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const retried = await pca.acquireTokenSilent({ account: signedIn.account!, scopes: [IMAP_SCOPE], forceRefresh: true });
    expect(entra.isAccessTokenValid(retried.accessToken)).toBe(true);

    entra.failNextTokenRequests(1, { status: 429, retryAfterSeconds: 1 });
    const throttled = await postForm(entra.tokenEndpoint(), { client_id: PUBLIC_APP, grant_type: 'refresh_token', refresh_token: refreshTokensIn(pca)[0] as string });
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBe('1');
    expect(throttled.body).toMatchObject({ error: 'temporarily_unavailable', error_codes: [90055] });

    entra.failNextTokenRequests(1, { status: 'reset' });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const reset = await pca.acquireTokenSilent({ account: signedIn.account!, scopes: [IMAP_SCOPE], forceRefresh: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(reset).toBeInstanceOf(AuthError);
    expect(reset).not.toBeInstanceOf(ServerError);
  });

  it('client credentials: app-only token for /.default in a tenant; secret and scope are checked', async () => {
    const tenantId = entra.tenantIdFor('contoso.com');
    const cca = new ConfidentialClientApplication(ccaConfig(tenantId));
    const result = await cca.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] });
    expect(result?.accessToken).toBeDefined();
    expect(decodeJwtPayload(result?.accessToken ?? '')).toMatchObject({ aud: 'https://graph.microsoft.com', tid: tenantId, roles: ['Mail.Read'], idtyp: 'app' });
    expect(entra.introspect(result?.accessToken ?? '')).toMatchObject({ active: true, client_id: WEB_APP });

    const wrongSecret = new ConfidentialClientApplication({ ...ccaConfig(tenantId), auth: { ...ccaConfig(tenantId).auth, clientSecret: 'nope' } });
    await expect(wrongSecret.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] })).rejects.toMatchObject({
      errorCode: 'invalid_client',
      errorMessage: expect.stringContaining('AADSTS7000215'),
    });
    const badScope = await postForm(entra.tokenEndpoint(tenantId), {
      client_id: WEB_APP,
      client_secret: WEB_SECRET,
      grant_type: 'client_credentials',
      scope: 'Mail.Read',
    });
    expect(badScope.body).toMatchObject({ error: 'invalid_scope', error_codes: [1002012] });
    const unknownApp = await postForm(entra.tokenEndpoint(tenantId), { client_id: 'nobody', grant_type: 'client_credentials', scope: 'x/.default' });
    expect(unknownApp.body).toMatchObject({ error: 'unauthorized_client', error_codes: [700016] });
  });

  it('introspection (for Dovecot passdb oauth2) over HTTPS and plain HTTP, following the fake clock', async () => {
    const pca = new PublicClientApplication(pcaConfig());
    const { accessToken } = await signInWithDeviceCode(pca, 'ana@contoso.com');
    const introspect = await postForm(entra.introspectionUrl, { token: accessToken });
    expect(introspect.body).toMatchObject({ active: true, username: 'ana@contoso.com', scope: 'IMAP.AccessAsUser.All', exp: expect.any(Number) });

    const plain = await request(`${entra.plainHttpBaseUrl}/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: accessToken }).toString(),
    });
    expect(await plain.body.json()).toMatchObject({ active: true, username: 'ana@contoso.com' });

    clock += 3601_000;
    expect(entra.isAccessTokenValid(accessToken)).toBe(false);
    expect((await postForm(entra.introspectionUrl, { token: accessToken })).body).toEqual({ active: false });
    expect((await postForm(entra.introspectionUrl, { token: 'garbage' })).body).toEqual({ active: false });
  });
});

describe('fake Google OAuth with google-auth-library', () => {
  let google: FakeGoogleOAuth;
  const CLIENT_ID = '1234567890-abc.apps.googleusercontent.com';
  const CLIENT_SECRET = 'GOCSPX-secret';
  const GOOGLE_REDIRECT = 'http://127.0.0.1:3000/v1/oauth/callback';

  // gaxios 7 loads node-fetch with a dynamic import(), which Jest's CommonJS runtime refuses
  // ("A dynamic import callback was invoked without --experimental-vm-modules"): hand it Node's fetch.
  const client = () =>
    new OAuth2Client({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      redirectUri: GOOGLE_REDIRECT,
      endpoints: google.endpoints,
      transporterOptions: { fetchImplementation: fetch },
    });

  async function authorize(oauth: OAuth2Client, options: { state?: string; codeChallenge?: string } = {}): Promise<URL> {
    const url = oauth.generateAuthUrl({
      access_type: 'offline',
      prompt: 'consent',
      scope: ['https://mail.google.com/', 'openid', 'email'],
      state: options.state,
      code_challenge: options.codeChallenge,
      code_challenge_method: options.codeChallenge ? ('S256' as never) : undefined,
    });
    const response = await request(url);
    await response.body.dump();
    expect(response.statusCode).toBe(302);
    return new URL(String(response.headers.location));
  }

  beforeAll(async () => {
    google = await FakeGoogleOAuth.start();
    google.registerApp({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [GOOGLE_REDIRECT] });
    google.addUser('ana@gmail.com');
    google.addUser('bo@example.org');
  });

  afterAll(async () => {
    await google?.stop();
  });

  it('code exchange with PKCE, id_token verification, refresh keeping the same refresh token', async () => {
    const oauth = client();
    const { codeVerifier, codeChallenge } = await oauth.generateCodeVerifierAsync();
    google.authorizeAs('ana@gmail.com');
    const back = await authorize(oauth, { state: 'xyz', codeChallenge });
    expect(back.searchParams.get('state')).toBe('xyz');
    const code = back.searchParams.get('code') as string;
    expect(code.startsWith('4/0')).toBe(true);

    const { tokens } = await oauth.getToken({ code, codeVerifier });
    expect(tokens).toMatchObject({
      access_token: expect.stringMatching(/^ya29\./),
      refresh_token: expect.stringMatching(/^1\/\//),
      token_type: 'Bearer',
      id_token: expect.any(String),
      scope: expect.stringContaining('https://mail.google.com/'),
    });
    const ticket = await oauth.verifyIdToken({ idToken: tokens.id_token as string, audience: CLIENT_ID });
    expect(ticket.getPayload()).toMatchObject({ email: 'ana@gmail.com', email_verified: true, aud: CLIENT_ID, iss: 'https://accounts.google.com' });
    const info = await oauth.getTokenInfo(tokens.access_token as string);
    expect(info).toMatchObject({ email: 'ana@gmail.com', scopes: expect.arrayContaining(['https://mail.google.com/']) });

    oauth.setCredentials({ refresh_token: tokens.refresh_token });
    const before = google.tokenRequests.length;
    const refreshed = await oauth.getAccessToken();
    expect(refreshed.token).toMatch(/^ya29\./);
    expect(refreshed.token).not.toBe(tokens.access_token);
    expect(oauth.credentials.refresh_token).toBe(tokens.refresh_token);
    expect(google.tokenRequests.slice(before)).toEqual([expect.objectContaining({ grantType: 'refresh_token', email: 'ana@gmail.com', status: 200 })]);
    expect(google.isAccessTokenValid(refreshed.token as string)).toBe(true);

    // Codes are single use.
    await expect(oauth.getToken({ code, codeVerifier })).rejects.toMatchObject({ response: { data: { error: 'invalid_grant' } } });
  });

  it('a revoked grant fails refresh with "Token has been expired or revoked."', async () => {
    const oauth = client();
    google.authorizeAs('bo@example.org');
    const back = await authorize(oauth);
    const { tokens } = await oauth.getToken(back.searchParams.get('code') as string);
    google.revoke('bo@example.org');
    expect(google.isAccessTokenValid(tokens.access_token as string)).toBe(false);

    const fresh = client();
    fresh.setCredentials({ refresh_token: tokens.refresh_token });
    const error = await fresh.getAccessToken().then(
      () => undefined,
      (e: unknown) => e as { message: string; response?: { status: number; data: unknown } },
    );
    expect(error?.message).toContain('invalid_grant');
    expect(error?.response?.status).toBe(400);
    expect(error?.response?.data).toEqual({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
  });

  it('transient failures are retried by gaxios; the revoke endpoint revokes the token pair', async () => {
    const oauth = client();
    google.authorizeAs('ana@gmail.com');
    const back = await authorize(oauth);
    const { tokens } = await oauth.getToken(back.searchParams.get('code') as string);

    google.failNextTokenRequests(2, { status: 503 });
    oauth.setCredentials({ refresh_token: tokens.refresh_token });
    const refreshed = await oauth.getAccessToken();
    expect(refreshed.token).toMatch(/^ya29\./);
    expect(google.tokenRequests.slice(-3).map((r) => r.status)).toEqual([503, 503, 200]);

    await oauth.revokeToken(refreshed.token as string);
    const again = client();
    again.setCredentials({ refresh_token: tokens.refresh_token });
    await expect(again.getAccessToken()).rejects.toMatchObject({ response: { data: { error_description: 'Token has been expired or revoked.' } } });
  });
});
