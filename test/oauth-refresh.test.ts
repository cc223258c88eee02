import { execFileSync } from 'node:child_process';
import { eventId } from '@app/events';
import { OAuthTokenStore, TokenRefresher, TokenRefreshScheduler } from '@app/oauth';
import { GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET, OAuthWorld, queryDatabase, RunningListener, startListener, WEB_CLIENT_ID, WEB_CLIENT_SECRET } from '@app/testing';

const MIN = 60_000;

/** Proactive refresh in the listener, on a manual clock shared with the fake Entra ID. */
describe('OAuth token refresh (listener, fake Entra ID, real Postgres and Redis)', () => {
  const world = new OAuthWorld();
  let seq = 0;
  let scheduler: TokenRefreshScheduler;
  let refresher: TokenRefresher;
  let store: OAuthTokenStore;

  beforeAll(async () => {
    await world.start({ listener: true });
    await world.createMicrosoftProvider({ name: 'Contoso', domains: ['contoso.com'] });
    scheduler = world.listener!.app.get(TokenRefreshScheduler);
    refresher = world.listener!.app.get(TokenRefresher);
    store = world.listener!.app.get(OAuthTokenStore);
    world.entra.setAccessTokenLifetime(3600);
  });

  afterAll(() => world.stop());

  /** A mailbox with an imported token, issued "now" on the manual clock. */
  async function signedIn(): Promise<{ id: string; email: string; tokenId: string }> {
    const email = `r${++seq}@contoso.com`;
    world.entra.addUser({ username: email });
    const { id } = await world.createMailbox(email);
    await world.api.http.put(`/v1/mailboxes/${id}/token`).set(world.api.auth).send({ refreshToken: await world.refreshTokenFor(email) }).expect(200);
    const token = (await store.findByMailbox(id))!;
    return { id, email, tokenId: token.id };
  }

  const refreshesOf = (username: string) => world.entra.tokenRequests.filter((r) => r.grantType === 'refresh_token' && r.username === username).length;

  /** Moves every token's refresh window past: due tokens first drained so tests start level. */
  async function advanceAndRun(ms: number) {
    world.clock.advance(ms);
    return scheduler.runOnce();
  }

  it('refreshes ahead of expiry (not before the window), rotating and storing the new refresh token at once', async () => {
    await scheduler.runOnce();
    const { id, email, tokenId } = await signedIn();
    const before = (await store.find(tokenId))!;
    const due = before.refreshDueAt!.getTime() - world.clock.now();
    // 1 h token: lead 12 min, jitter up to 6 min → due 42–48 min after issue.
    expect(due).toBeGreaterThanOrEqual(42 * MIN - 1000);
    expect(due).toBeLessThanOrEqual(48 * MIN + 1000);

    await advanceAndRun(30 * MIN);
    expect(refreshesOf(email)).toBe(1); // only the import's redemption
    await advanceAndRun(19 * MIN);
    expect(refreshesOf(email)).toBe(2);

    const after = (await store.find(tokenId))!;
    expect(after.state).toBe('active');
    expect(after.expiresAt!.getTime()).toBeGreaterThan(before.expiresAt!.getTime() + 40 * MIN);
    expect(after.lastRefreshAt!.getTime()).toBe(world.clock.now());
    const secrets = store.secretsOf(after);
    expect(world.entra.liveRefreshTokens(email)).toEqual([secrets.refreshToken]);
    expect(world.entra.isAccessTokenValid(secrets.accessToken!)).toBe(true);
    expect(secrets.refreshToken).not.toEqual(store.secretsOf(before).refreshToken);
    const status = await world.status(id);
    expect(status.token).toMatchObject({ state: 'active', lastRefreshAt: new Date(world.clock.now()).toISOString() });
  });

  it('a transient failure is retried with backoff while the token stays active', async () => {
    await advanceAndRun(60 * MIN);
    const { id, email, tokenId } = await signedIn();
    world.clock.advance(49 * MIN);
    world.entra.failNextTokenRequests(1, { status: 503 });
    expect(await refresher.refresh(tokenId)).toBe('transient_failure');
    const failed = (await store.find(tokenId))!;
    expect(failed).toMatchObject({ state: 'active', refreshAttempts: 1, lastErrorCode: expect.stringMatching(/^AADSTS|http_503|temporarily_unavailable/) });
    expect(failed.refreshDueAt!.getTime()).toBeGreaterThan(world.clock.now());
    expect((await world.status(id)).token.lastError).toMatchObject({ code: failed.lastErrorCode });

    expect(await refresher.refresh(tokenId)).toBe('skipped'); // not due again yet
    world.clock.advance(5 * MIN);
    expect(await refresher.refresh(tokenId)).toBe('success');
    expect((await store.find(tokenId))!).toMatchObject({ state: 'active', refreshAttempts: 0, lastErrorCode: null });
    expect(refreshesOf(email)).toBe(2);
  });

  it('a revoked grant makes the token invalid, publishes mailbox.auth_failed once, and leaves other mailboxes alone', async () => {
    await advanceAndRun(60 * MIN);
    const revoked = await signedIn();
    const healthy = await signedIn();
    world.entra.revokeGrants(revoked.email, 'revoked');
    const outcomes = await advanceAndRun(49 * MIN);
    expect(outcomes.sort()).toEqual(expect.arrayContaining(['permanent_failure', 'success']));

    const status = await world.status(revoked.id);
    expect(status.token).toMatchObject({ state: 'invalid', lastError: { code: 'AADSTS50173' } });
    expect(status.recommendedAction).toMatch(/^Sign in again: AADSTS50173/);
    expect((await world.status(healthy.id)).token.state).toBe('active');

    const token = (await store.find(revoked.tokenId))!;
    // Written to the outbox with the token's change, published by the relay right after the commit.
    const job = await world.waitFor(() => world.events.job(eventId('mailbox.auth_failed', revoked.id, token.generation)), Boolean, 5_000, 'mailbox.auth_failed');
    expect(job?.name).toBe('mailbox.auth_failed');
    expect(job?.data).toMatchObject({
      type: 'mailbox.auth_failed',
      version: 1,
      mailbox: { id: revoked.id, email: revoked.email, externalId: null },
      reason: { code: 'AADSTS50173', message: expect.stringMatching(/^AADSTS50173/) },
      recommendedAction: expect.stringMatching(/^Sign in again/),
    });

    // Never retried until a new token arrives.
    const requests = refreshesOf(revoked.email);
    await advanceAndRun(120 * MIN);
    expect(refreshesOf(revoked.email)).toBe(requests);
    // Only auth_failed: the mailbox's runner publishes its own state_changed events meanwhile.
    const authFailedJobs = (await world.events.jobs()).filter((j) => j.name === 'mailbox.auth_failed' && j.data.mailbox.id === revoked.id);
    expect(authFailedJobs).toHaveLength(1);

    world.entra.addUser({ username: revoked.email });
    await world.api.http.put(`/v1/mailboxes/${revoked.id}/token`).set(world.api.auth).send({ refreshToken: await world.refreshTokenFor(revoked.email) }).expect(200);
    expect((await world.status(revoked.id)).token).toMatchObject({ state: 'active', lastError: null });
  });

  it('two listeners refreshing the same tokens at once refresh each exactly once', async () => {
    await advanceAndRun(60 * MIN);
    // A replica of its own (two processes never share a LISTENER_ID: the second would speak for the first).
    const second: RunningListener = await startListener({ ...world.config, listener: { ...world.config.listener, id: 'second-listener' } }, { clock: world.clock });
    try {
      const mailboxes = await Promise.all(Array.from({ length: 12 }, () => signedIn()));
      const before = mailboxes.map((m) => refreshesOf(m.email));
      world.clock.advance(49 * MIN);
      const requestsAt = world.entra.tokenRequests.length;
      const [a, b] = await Promise.all([scheduler.runOnce(), second.app.get(TokenRefreshScheduler).runOnce()]);
      const successes = [...a, ...b].filter((o) => o === 'success').length;
      // Every token refreshed by exactly one of the two: never two identity-provider requests for one
      // user. (Not "one request per success": a mailbox's runner may refresh its own due token on demand
      // between the clock's advance and the passes, once, and the passes then skip it.)
      expect(successes).toBeGreaterThanOrEqual(12);
      const perUser = new Map<string, number>();
      for (const request of world.entra.tokenRequests.slice(requestsAt).filter((r) => r.grantType === 'refresh_token')) perUser.set(request.username!, (perUser.get(request.username!) ?? 0) + 1);
      expect([...perUser].filter(([, n]) => n > 1)).toEqual([]);
      mailboxes.forEach((m, i) => expect(refreshesOf(m.email)).toBe(before[i] + 1));
      expect(world.entra.tokenRequests.filter((r) => r.errorCode === 54005)).toHaveLength(0);
      // Each process fetched the OpenID metadata once, not once per refresh.
      expect(world.entra.metadataRequests).toBeLessThanOrEqual(3);
      const single = mailboxes[0];
      world.clock.advance(49 * MIN);
      const pair = await Promise.all([refresher.refresh(single.tokenId), second.app.get(TokenRefresher).refresh(single.tokenId)]);
      expect(pair.sort()).toEqual(['skipped', 'success']);
    } finally {
      await second.close();
    }
  });

  it('renews app-only (client credentials) tokens too', async () => {
    await advanceAndRun(60 * MIN);
    const provider = await world.createMicrosoftProvider({
      name: 'App-only',
      type: 'microsoft-graph',
      domains: ['apponly.contoso.com'],
      oauth: { clientId: WEB_CLIENT_ID, clientSecret: WEB_CLIENT_SECRET, tenant: world.entra.tenantIdFor('contoso.com'), appOnly: true },
    });
    await world.api.http.post(`/v1/providers/${provider.id}/oauth/app-token`).set(world.api.auth).expect(200);
    const appTokens = () => world.entra.tokenRequests.filter((r) => r.grantType === 'client_credentials' && r.status === 200).length;
    const before = appTokens();
    await advanceAndRun(55 * MIN);
    expect(appTokens()).toBe(before + 1);
  });

  it('does not refresh tokens of disabled mailboxes', async () => {
    await advanceAndRun(60 * MIN);
    const { id, email } = await signedIn();
    await world.api.http.patch(`/v1/mailboxes/${id}`).set(world.api.auth).send({ enabled: false }).expect(200);
    const before = refreshesOf(email);
    await advanceAndRun(55 * MIN);
    expect(refreshesOf(email)).toBe(before);
  });

  it('refreshes and invalidates Google tokens the same way', async () => {
    await world.api.http
      .post('/v1/providers')
      .set(world.api.auth)
      .send({ name: 'Gmail', type: 'imap', host: '127.0.0.1', port: world.closedImapPort, secure: false, authMethod: 'oauth2', domains: ['gmail.test'], oauth: { issuer: 'google', clientId: GOOGLE_CLIENT_ID, clientSecret: GOOGLE_CLIENT_SECRET, authorityHost: world.google.baseUrl } })
      .expect(201);
    const email = 'bo@gmail.test';
    world.google.addUser(email);
    const { id } = await world.createMailbox(email);
    const res = await world.api.http.get(`/v1/mailboxes/${id}/oauth/authorize`).set(world.api.auth).expect(302);
    world.google.authorizeAs(email);
    const consent = await world.get(res.headers.location);
    await world.api.http.get('/v1/oauth/callback').query(Object.fromEntries(new URL(consent.location!).searchParams)).expect(200);
    const googleRefreshes = () => world.google.tokenRequests.filter((r) => r.grantType === 'refresh_token').length;

    await advanceAndRun(55 * MIN);
    expect(googleRefreshes()).toBe(1);
    expect((await world.status(id)).token.state).toBe('active');

    world.google.revoke(email);
    await advanceAndRun(55 * MIN);
    expect((await world.status(id)).token).toMatchObject({ state: 'invalid', lastError: { code: 'invalid_grant', message: 'Token has been expired or revoked.' } });
  });

  it('exports token health metrics that promtool accepts', async () => {
    const text = await (await fetch(`${world.listener!.url}/metrics`)).text();
    const active = await queryDatabase<{ n: number }>(world.db.url, `SELECT count(*)::int AS n FROM oauth_tokens WHERE state = 'active'`);
    expect(text).toContain(`mail_listener_tokens{state="active",app="listener"} ${active[0].n}`);
    expect(text).toMatch(/mail_listener_tokens\{state="invalid",app="listener"\} [1-9]/);
    expect(text).toMatch(/mail_listener_token_refreshes_total\{provider="[0-9a-f-]+",result="success",app="listener"\} \d+/);
    expect(text).toMatch(/mail_listener_token_refreshes_total\{provider="[0-9a-f-]+",result="permanent_failure",app="listener"\} [1-9]/);
    expect(text).toMatch(/mail_listener_token_soonest_expiry_seconds\{app="listener"\} \d/);
    expect(execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' }).trim()).toBe('');
  });
});
