import { DeviceCodeFlowService } from '@app/oauth';
import { GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET, OAUTH_REDIRECT_URI, OAuthWorld, queryDatabase, startApi, WEB_CLIENT_ID, WEB_CLIENT_SECRET } from '@app/testing';
import { RedisLock, REDIS } from '@app/redis';

/** Sign-in flows through the real API against the fake Entra ID / Google, with msal-node itself. */
describe('OAuth sign-in flows (API, fake Entra ID and Google, real Postgres and Redis)', () => {
  const world = new OAuthWorld();
  let seq = 0;
  const nextEmail = (domain = 'contoso.com') => `user${++seq}@${domain}`;

  beforeAll(async () => {
    await world.start();
    await world.createMicrosoftProvider({ name: 'Contoso (public client)', domains: ['contoso.com'] });
    await world.createMicrosoftProvider({ name: 'Fabrikam (confidential)', domains: ['fabrikam.com'], oauth: { clientId: WEB_CLIENT_ID, clientSecret: WEB_CLIENT_SECRET } });
  });

  afterAll(() => world.stop());

  async function mailbox(domain = 'contoso.com'): Promise<{ id: string; email: string }> {
    const email = nextEmail(domain);
    world.entra.addUser({ username: email });
    return { ...(await world.createMailbox(email)), email };
  }

  async function tokenRow(mailboxId: string) {
    const [row] = await queryDatabase<Record<string, any>>(world.db.url, 'SELECT * FROM oauth_tokens WHERE mailbox_id = $1', [mailboxId]);
    return row;
  }

  describe('device code', () => {
    it('hands out a code, polls in the background and becomes active when the user signs in', async () => {
      const { id, email } = await mailbox();
      const res = await world.api.http.post(`/v1/mailboxes/${id}/oauth/device-code`).set(world.api.auth).expect(200);
      expect(res.body).toEqual({
        userCode: expect.any(String),
        verificationUri: `${world.entra.authorityHost}/devicelogin`,
        expiresAt: expect.any(String),
        interval: 1,
        message: expect.stringContaining(res.body.userCode),
      });
      const waiting = await world.status(id);
      expect(waiting.token).toMatchObject({ state: 'waiting_for_authorization', pendingAuthorization: { userCode: res.body.userCode } });
      expect(waiting.recommendedAction).toBe(`Finish signing in at ${res.body.verificationUri} with code ${res.body.userCode} before ${res.body.expiresAt}`);

      world.entra.approveDeviceCode(res.body.userCode, email);
      const active = await world.waitForStatus(id, (s) => s.token.state === 'active');
      expect(active.token).toMatchObject({ expiresAt: expect.any(String), lastRefreshAt: expect.any(String), lastError: null, pendingAuthorization: null });
      expect(active.recommendedAction).toMatch(/Waiting for a listener/);
      const row = await tokenRow(id);
      expect(row.account_username).toBe(email);
      expect(row.refresh_token_encrypted).toMatch(/^v1\./);
      expect(world.entra.liveRefreshTokens(email).some((rt) => row.refresh_token_encrypted.includes(rt))).toBe(false);
    });

    it.each([
      ['declined', (code: string) => world.entra.declineDeviceCode(code), 'authorization_declined', 'The user declined the sign-in'],
      ['expired', (code: string) => world.entra.expireDeviceCode(code), 'expired_token', 'The device code expired before the user signed in'],
    ])('%s: back to not_obtained with the reason', async (_label, act, code, message) => {
      const { id } = await mailbox();
      const res = await world.api.http.post(`/v1/mailboxes/${id}/oauth/device-code`).set(world.api.auth).expect(200);
      act(res.body.userCode);
      const status = await world.waitForStatus(id, (s) => s.token.state === 'not_obtained');
      expect(status.token.lastError).toMatchObject({ code, message });
      expect(status.token.pendingAuthorization).toBeNull();
    });

    it('a different account signing in stores nothing', async () => {
      const { id } = await mailbox();
      const intruder = nextEmail();
      world.entra.addUser({ username: intruder });
      const res = await world.api.http.post(`/v1/mailboxes/${id}/oauth/device-code`).set(world.api.auth).expect(200);
      world.entra.approveDeviceCode(res.body.userCode, intruder);
      const status = await world.waitForStatus(id, (s) => s.token.state === 'not_obtained');
      expect(status.token.lastError).toMatchObject({ code: 'account_mismatch', message: expect.stringContaining(`Signed in as ${intruder}`) });
      const row = await tokenRow(id);
      expect([row.access_token_encrypted, row.refresh_token_encrypted, row.cache_encrypted]).toEqual([null, null, null]);
    });

    it('a flow whose API process stopped or died is reported as interrupted, not left waiting', async () => {
      // Graceful stop: a second API replica starts a flow and shuts down.
      const other = await startApi(world.config, { clock: world.clock });
      const { id } = await mailbox();
      await other.http.post(`/v1/mailboxes/${id}/oauth/device-code`).set(other.auth).expect(200);
      await other.close();
      const stopped = await world.status(id);
      expect(stopped.token).toMatchObject({ state: 'not_obtained', lastError: { code: 'interrupted' } });

      // Crash: the flow's heartbeat vanishes; the sweeper notices.
      const crashed = await mailbox();
      await world.api.http.post(`/v1/mailboxes/${crashed.id}/oauth/device-code`).set(world.api.auth).expect(200);
      const service = world.api.app.get(DeviceCodeFlowService);
      const flowId = (await tokenRow(crashed.id)).authorization.flowId;
      service.cancel(crashed.id);
      await new RedisLock(world.api.app.get(REDIS)).clear(`oauth-device-flow:${flowId}`);
      expect(await service.sweep()).toBe(1);
      expect((await world.status(crashed.id)).token).toMatchObject({ state: 'not_obtained', lastError: { code: 'interrupted' } });
    });
  });

  describe('authorization code', () => {
    async function consentAs(mailboxId: string, username: string | null) {
      const res = await world.api.http.get(`/v1/mailboxes/${mailboxId}/oauth/authorize`).set(world.api.auth).expect(302);
      const consentUrl = new URL(res.headers.location);
      world.entra.authorizeAs(username);
      const consent = await world.get(consentUrl.toString());
      expect(consent.status).toBe(302);
      const back = new URL(consent.location!);
      expect(`${back.origin}${back.pathname}`).toBe(OAUTH_REDIRECT_URI);
      return { consentUrl, query: Object.fromEntries(back.searchParams) };
    }

    it('redirects to the provider with PKCE, a sealed state and the mailbox as login hint; the callback signs in', async () => {
      const { id, email } = await mailbox();
      const { consentUrl, query } = await consentAs(id, email);
      expect(consentUrl.origin).toBe(world.entra.authorityHost);
      expect(consentUrl.pathname).toBe('/organizations/oauth2/v2.0/authorize');
      expect(Object.fromEntries(consentUrl.searchParams)).toMatchObject({
        client_id: expect.any(String),
        redirect_uri: OAUTH_REDIRECT_URI,
        code_challenge_method: 'S256',
        code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        login_hint: email,
        state: expect.stringMatching(/^v1\./),
        nonce: expect.any(String),
      });
      expect((await world.status(id)).token.state).toBe('waiting_for_authorization');

      const page = await world.api.http.get('/v1/oauth/callback').query(query).expect(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      expect(page.text).toContain(`Signed in as ${email}. You can close this tab.`);
      expect((await world.status(id)).token.state).toBe('active');

      const reused = await world.api.http.get('/v1/oauth/callback').query(query).expect(400);
      expect(reused.text).toContain('already used');
    });

    it('works with a confidential client (client secret) too', async () => {
      const { id, email } = await mailbox('fabrikam.com');
      const { query } = await consentAs(id, email);
      await world.api.http.get('/v1/oauth/callback').query(query).expect(200);
      expect((await world.status(id)).token.state).toBe('active');
      expect(world.entra.tokenRequests.at(-1)).toMatchObject({ grantType: 'authorization_code', clientId: WEB_CLIENT_ID, status: 200 });
    });

    it('rejects a forged, tampered, missing or expired state', async () => {
      const { id, email } = await mailbox();
      const { query } = await consentAs(id, email);
      const forged = await world.api.http.get('/v1/oauth/callback').query({ code: query.code, state: 'v1.00000000.AAAA.BBBB.CCCC' }).expect(400);
      expect(forged.text).toContain('state: is not one this service issued');
      const tampered = query.state.slice(0, -2) + (query.state.endsWith('AA') ? 'BB' : 'AA');
      await world.api.http.get('/v1/oauth/callback').query({ code: query.code, state: tampered }).expect(400);
      const parts = String(query.state).split('.');
      parts[3] = Buffer.from(parts[3], 'base64url').subarray(0, 4).toString('base64url');
      const truncatedTag = await world.api.http.get('/v1/oauth/callback').query({ code: query.code, state: parts.join('.') }).expect(400);
      expect(truncatedTag.text).toContain('state: is not one this service issued');
      const missing = await world.api.http.get('/v1/oauth/callback').query({ code: query.code }).expect(400);
      expect(missing.text).toContain('state: is missing');
      world.clock.advance(11 * 60_000);
      const expired = await world.api.http.get('/v1/oauth/callback').query(query).expect(400);
      expect(expired.text).toContain('expired');
      expect((await world.status(id)).token.state).toBe('waiting_for_authorization');
    });

    it('an account that is not the mailbox is refused and nothing is stored', async () => {
      const { id, email } = await mailbox();
      const intruder = nextEmail();
      world.entra.addUser({ username: intruder });
      const { query } = await consentAs(id, intruder);
      const page = await world.api.http.get('/v1/oauth/callback').query(query).expect(400);
      expect(page.text).toContain(`Signed in as ${intruder}, but this mailbox is ${email}. Nothing was stored`);
      const status = await world.status(id);
      expect(status.token).toMatchObject({ state: 'not_obtained', lastError: { code: 'account_mismatch' } });
      expect((await tokenRow(id)).refresh_token_encrypted).toBeNull();
    });

    it('a refused consent comes back as a clear page and status', async () => {
      const { id } = await mailbox();
      const { query } = await consentAs(id, null);
      expect(query.error).toBe('access_denied');
      const page = await world.api.http.get('/v1/oauth/callback').query(query).expect(400);
      expect(page.text).toContain('The sign-in did not complete');
      expect((await world.status(id)).token).toMatchObject({ state: 'not_obtained', lastError: { code: 'access_denied' } });
    });

    it('escapes everything it shows', async () => {
      const { id } = await mailbox();
      const { query } = await consentAs(id, null);
      const page = await world.api.http.get('/v1/oauth/callback').query({ ...query, error_description: '<script>alert(1)</script>' }).expect(400);
      expect(page.text).not.toContain('<script>alert(1)');
      expect(page.text).toContain('&lt;script&gt;');
    });
  });

  describe('import and delete', () => {
    it('imports a refresh token (redeemed once, never returned), then forgets it', async () => {
      const { id, email } = await mailbox();
      const refreshToken = await world.refreshTokenFor(email);
      const res = await world.api.http.put(`/v1/mailboxes/${id}/token`).set(world.api.auth).send({ refreshToken }).expect(200);
      expect(res.body).toMatchObject({ state: 'active', expiresAt: expect.any(String), lastError: null });
      expect(JSON.stringify(res.body)).not.toContain(refreshToken);
      const status = await world.status(id);
      expect(status.token.state).toBe('active');
      expect(JSON.stringify(status)).not.toContain(refreshToken);
      const row = await tokenRow(id);
      expect(JSON.stringify(row)).not.toContain(refreshToken);
      expect(row.generation).toBe(1);

      await world.api.http.delete(`/v1/mailboxes/${id}/token`).set(world.api.auth).expect(204);
      expect((await world.status(id)).token).toMatchObject({ state: 'not_obtained', expiresAt: null });
      const cleared = await tokenRow(id);
      expect([cleared.access_token_encrypted, cleared.refresh_token_encrypted, cleared.cache_encrypted]).toEqual([null, null, null]);
    });

    it('refuses a token the identity provider rejects, or one of another account, storing nothing', async () => {
      const { id } = await mailbox();
      const bad = await world.api.http.put(`/v1/mailboxes/${id}/token`).set(world.api.auth).send({ refreshToken: 'not-a-real-refresh-token' }).expect(400);
      expect(bad.body.message).toMatch(/^refreshToken: the identity provider refused it: AADSTS/);
      const someoneElse = nextEmail();
      world.entra.addUser({ username: someoneElse });
      const foreign = await world.api.http.put(`/v1/mailboxes/${id}/token`).set(world.api.auth).send({ refreshToken: await world.refreshTokenFor(someoneElse) }).expect(400);
      expect(foreign.body.message).toBe(`refreshToken: it belongs to ${someoneElse}, not to ${(await world.api.http.get(`/v1/mailboxes/${id}`).set(world.api.auth)).body.email}; nothing was stored`);
      expect((await world.status(id)).token.state).toBe('not_obtained');
      const missing = await world.api.http.put(`/v1/mailboxes/${id}/token`).set(world.api.auth).send({}).expect(400);
      expect(missing.body.message).toMatch(/^refreshToken: /);
    });

    it('OAuth operations on a password mailbox are a 409', async () => {
      await world.api.http.post('/v1/providers').set(world.api.auth).send({ name: 'Pw', type: 'imap', host: 'imap.pw.test', domains: ['pw.test'] }).expect(201);
      const { id } = await world.createMailbox('a@pw.test', { password: 'x' });
      const res = await world.api.http.post(`/v1/mailboxes/${id}/oauth/device-code`).set(world.api.auth).expect(409);
      expect(res.body.message).toMatch(/uses password authentication/);
      await world.api.http.put(`/v1/mailboxes/${id}/token`).set(world.api.auth).send({ refreshToken: 'x' }).expect(409);
    });
  });

  describe('client credentials (app-only Graph provider)', () => {
    it('acquires a tenant-wide token; mailboxes need no sign-in', async () => {
      const tenant = world.entra.tenantIdFor('northwind.com');
      const provider = await world.createMicrosoftProvider({
        name: 'Northwind app-only',
        type: 'microsoft-graph',
        domains: ['northwind.com'],
        oauth: { clientId: WEB_CLIENT_ID, clientSecret: WEB_CLIENT_SECRET, tenant, appOnly: true },
      });
      const { id } = await world.createMailbox('ops@northwind.com');
      expect((await world.status(id)).token.state).toBe('not_obtained');
      const res = await world.api.http.post(`/v1/providers/${provider.id}/oauth/app-token`).set(world.api.auth).expect(200);
      expect(res.body).toMatchObject({ state: 'active', expiresAt: expect.any(String) });
      expect(world.entra.tokenRequests.at(-1)).toMatchObject({ grantType: 'client_credentials', scope: 'https://graph.microsoft.com/.default', status: 200 });
      expect((await world.status(id)).token.state).toBe('active');
      const noSignIn = await world.api.http.post(`/v1/mailboxes/${id}/oauth/device-code`).set(world.api.auth).expect(409);
      expect(noSignIn.body.message).toMatch(/app-only access/);
    });

    it('refuses app-only without a secret or with a multi-tenant alias', async () => {
      const base = { name: 'x', type: 'microsoft-graph', authMethod: 'oauth2' };
      const noSecret = await world.api.http.post('/v1/providers').set(world.api.auth).send({ ...base, oauth: { clientId: 'c', tenant: 'contoso.com', appOnly: true } }).expect(400);
      expect(noSecret.body.message).toMatch(/oauth.clientSecret: is required when oauth.appOnly is true/);
      const common = await world.api.http.post('/v1/providers').set(world.api.auth).send({ ...base, oauth: { clientId: 'c', clientSecret: 's', appOnly: true } }).expect(400);
      expect(common.body.message).toMatch(/oauth.tenant: must be a specific tenant/);
    });
  });

  describe('Google', () => {
    it('signs in through the authorization code flow; the device flow is refused with the reason', async () => {
      await world.api.http
        .post('/v1/providers')
        .set(world.api.auth)
        .send({
          name: 'Gmail',
          type: 'imap',
          host: 'imap.gmail.com',
          authMethod: 'oauth2',
          domains: ['gmail.test'],
          oauth: { issuer: 'google', clientId: GOOGLE_CLIENT_ID, clientSecret: GOOGLE_CLIENT_SECRET, authorityHost: world.google.baseUrl },
        })
        .expect(201);
      const email = 'ana@gmail.test';
      world.google.addUser(email);
      const { id } = await world.createMailbox(email);
      const device = await world.api.http.post(`/v1/mailboxes/${id}/oauth/device-code`).set(world.api.auth).expect(400);
      expect(device.body.message).toMatch(/Google does not allow the Gmail scope in the device flow/);

      const res = await world.api.http.get(`/v1/mailboxes/${id}/oauth/authorize`).set(world.api.auth).expect(302);
      const consentUrl = new URL(res.headers.location);
      expect(`${consentUrl.origin}${consentUrl.pathname}`).toBe(`${world.google.baseUrl}/o/oauth2/v2/auth`);
      expect(consentUrl.searchParams.get('scope')).toContain('https://mail.google.com/');
      expect(consentUrl.searchParams.get('access_type')).toBe('offline');
      world.google.authorizeAs(email);
      const consent = await world.get(consentUrl.toString());
      const query = Object.fromEntries(new URL(consent.location!).searchParams);
      const page = await world.api.http.get('/v1/oauth/callback').query(query).expect(200);
      expect(page.text).toContain(`Signed in as ${email}`);
      expect((await world.status(id)).token.state).toBe('active');
    });
  });
});
