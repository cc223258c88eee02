import { DovecotServer, OAuthWorld } from '@app/testing';

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
