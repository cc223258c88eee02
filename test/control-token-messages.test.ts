import { DovecotServer, GRAPH_DAEMON_APP_ID, GRAPH_DAEMON_APP_SECRET, GraphWorld, OAuthWorld } from '@app/testing';

/**
 * Token changes announced to the listeners (control messages): with the periodic reconcile set to a
 * minute, an OAuth mailbox whose tokens are imported connects at once, which only the message can do.
 */
describe('control messages for token changes (real Dovecot with XOAUTH2, fake Entra ID; reconcile interval one minute)', () => {
  const world = new OAuthWorld();
  let dovecot: DovecotServer;

  beforeAll(async () => {
    await world.start({ listener: true, env: { SYNC_RECONCILE_INTERVAL_MS: '60000' } });
    dovecot = await DovecotServer.start({ oauth2IntrospectionUrl: `${world.entra.plainHttpBaseUrl}/introspect`, oauth2Mechanisms: ['xoauth2'] });
    await world.createMicrosoftProvider({ name: 'Exchange-like', domains: ['contoso.com'], host: '127.0.0.1', port: dovecot.port });
  }, 60_000);

  afterAll(async () => {
    await world.stop();
    await dovecot?.destroy();
  });

  it('importing a token connects the mailbox at once; deleting it closes the session at once', async () => {
    const email = 'tia@contoso.com';
    world.entra.addUser({ username: email });
    await dovecot.addUser(email, 'unused-password');
    const { id } = await world.createMailbox(email);
    const refreshToken = await world.refreshTokenFor(email);

    let started = Date.now();
    await world.api.http.put(`/v1/mailboxes/${id}/token`).set(world.api.auth).send({ refreshToken }).expect(200);
    await world.waitFor(() => world.status(id), (status) => status.connection.state === 'connected', 5_000, 'connected after the import');
    expect(Date.now() - started).toBeLessThan(2_000);

    started = Date.now();
    await world.api.http.delete(`/v1/mailboxes/${id}/token`).set(world.api.auth).expect(204);
    await world.waitFor(async () => (await dovecot.sessionsByUser()).get(email) ?? 0, (count) => count === 0, 5_000, `no Dovecot session of ${email}`);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

/**
 * A provider's app-only token (client credentials), which every mailbox of that provider signs in with:
 * obtained after the mailboxes were created, the listener running them hears it (control message
 * `app-token-changed`) and they connect at once. The reconcile interval is a minute and a runner waits a
 * minute after a missing token, so only the message can do it within seconds.
 */
describe('control messages for app-only token changes (fake Graph and Entra ID; reconcile interval one minute)', () => {
  const world = new GraphWorld();

  beforeAll(async () => {
    await world.start({ env: { SYNC_RECONCILE_INTERVAL_MS: '60000' } });
  }, 60_000);

  afterAll(async () => {
    await world.stop();
  });

  it('obtaining the app-only token connects the waiting mailboxes of its provider at once', async () => {
    const domain = 'tailspin.com';
    // App-only provider whose token is not obtained yet.
    const provider = await world.createProvider({
      name: 'App-only, token later',
      domains: [domain],
      oauth: { clientId: GRAPH_DAEMON_APP_ID, clientSecret: GRAPH_DAEMON_APP_SECRET, tenant: world.entra.tenantIdFor(domain), appOnly: true, scopes: ['https://graph.microsoft.com/.default'] },
    });
    const mailboxes = [await world.mailbox(`ops1@${domain}`, { providerId: provider.id }, { token: false }), await world.mailbox(`ops2@${domain}`, { providerId: provider.id }, { token: false })];
    for (const { id } of mailboxes) {
      const waiting = await world.waitForState(id, 'auth_error', 5_000);
      expect(waiting.connection.lastError).toMatchObject({ code: 'TOKEN_NOT_OBTAINED' });
    }

    const started = Date.now();
    await world.api.http.post(`/v1/providers/${provider.id}/oauth/app-token`).set(world.api.auth).expect(200);
    for (const { id } of mailboxes) await world.waitForState(id, 'connected', 10_000);
    const connectedMs = Date.now() - started;
    expect(connectedMs).toBeLessThan(3_000);
    process.stdout.write(`control messages: app-only token obtained → ${mailboxes.length} mailboxes connected in ${connectedMs} ms\n`);
  });
});
