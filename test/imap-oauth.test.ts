import { TokenRefreshScheduler } from '@app/oauth';
import { MailboxSupervisor } from '@app/sync';
import { buildMessage, DovecotServer, OAuthWorld, TestMailEvents } from '@app/testing';

const MIN = 60_000;

/** XOAUTH2 against a real Dovecot that checks tokens with the fake Entra ID (introspection). */
describe('IMAP with OAuth (XOAUTH2, real Dovecot, fake Entra ID)', () => {
  const world = new OAuthWorld();
  let dovecot: DovecotServer;
  let events: TestMailEvents;

  beforeAll(async () => {
    await world.start({ listener: true, env: { SYNC_RECONCILE_INTERVAL_MS: '200' } });
    events = world.events;
    dovecot = await DovecotServer.start({ oauth2IntrospectionUrl: `${world.entra.plainHttpBaseUrl}/introspect`, oauth2Mechanisms: ['xoauth2'] });
    await world.createMicrosoftProvider({ name: 'Exchange-like', domains: ['contoso.com'], host: '127.0.0.1', port: dovecot.port });
  }, 60_000);

  afterAll(async () => {
    await world.stop();
    await dovecot?.destroy();
  });

  async function signedIn(email: string): Promise<string> {
    world.entra.addUser({ username: email });
    await dovecot.addUser(email, 'unused-password');
    const { id } = await world.createMailbox(email);
    await world.api.http.put(`/v1/mailboxes/${id}/token`).set(world.api.auth).send({ refreshToken: await world.refreshTokenFor(email) }).expect(200);
    return id;
  }

  const received = async (id: string) => (await events.jobs()).filter((job) => job.name === 'mail.received' && job.data.mailbox.id === id);

  it('logs in with XOAUTH2 and publishes new mail', async () => {
    const id = await signedIn('ana@contoso.com');
    await world.waitFor(() => world.status(id), (s) => s.connection.state === 'connected', 15_000, 'connected');
    await dovecot.deliver('ana@contoso.com', buildMessage({ subject: 'over oauth' }));
    const [job] = await world.waitFor(() => received(id), (jobs) => jobs.length === 1, 15_000, 'mail.received');
    expect(job.data.message.subject).toBe('over oauth');
  });

  it('rotates the token and re-authenticates make-before-break while mail arrives: nothing missed, nothing twice', async () => {
    const email = 'bo@contoso.com';
    const id = await signedIn(email);
    await world.waitFor(() => world.status(id), (s) => s.connection.state === 'connected', 15_000, 'connected');
    const runner = world.listener!.app.get(MailboxSupervisor).imapRunner(id)!;
    const scheduler = world.listener!.app.get(TokenRefreshScheduler);

    const delivered: number[] = [];
    let delivering = true;
    const mail = (async () => {
      for (let i = 0; delivering || i < 30; i++) {
        delivered.push((await dovecot.deliver(email, buildMessage({ subject: `rotation ${i}` }))).uid);
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
    })();
    // The refresher rotates the grant (new access and refresh token), then the session re-authenticates.
    world.clock.advance(50 * MIN);
    expect(await scheduler.runOnce()).toContain('success');
    await runner.reauthenticate();
    await runner.reauthenticate();
    delivering = false;
    await mail;

    const jobs = await world.waitFor(() => received(id), (all) => all.length >= delivered.length, 20_000, `${delivered.length} events`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const all = await received(id);
    expect(all).toHaveLength(delivered.length);
    expect(all.map((job) => job.data.message.uid).sort((a, b) => a - b)).toEqual([...delivered].sort((a, b) => a - b));
    expect(jobs.length).toBe(delivered.length);
    // The old session was closed after the new one listened: one IMAP session remains.
    await world.waitFor(() => dovecot.connectionsOf(email), (c) => c.filter((x) => x.service === 'imap').length === 1, 15_000, 'one session left');
    expect((await world.status(id)).connection.state).toBe('connected');
  });

  it('a revoked grant ends in auth_error with the reason, after one refresh attempt', async () => {
    const email = 'cy@contoso.com';
    const id = await signedIn(email);
    await world.waitFor(() => world.status(id), (s) => s.connection.state === 'connected', 15_000, 'connected');
    world.entra.revokeGrants(email, 'revoked');
    world.entra.invalidateAccessTokens(email);
    await dovecot.kickUser(email);
    const status = await world.waitFor(() => world.status(id), (s) => s.connection.state === 'auth_error' && s.token.state === 'invalid', 20_000, 'auth_error + invalid token');
    expect(status.token.lastError).toMatchObject({ code: 'AADSTS50173' });
    expect(status.recommendedAction).toMatch(/^Sign in again/);
    const authFailed = await world.waitForEvents(id, 'mailbox.auth_failed', (jobs) => jobs.length > 0, 'the auth_failed event');
    expect(authFailed).toHaveLength(1);
  });
});
