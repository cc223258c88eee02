import { execFileSync } from 'node:child_process';
import { buildMessage, ListenerWorld } from '@app/testing';

/** Password mailboxes the server keeps rejecting are disabled after IMAP_AUTH_DISABLE_AFTER_HOURS. */
describe('IMAP authentication failures over time (real Dovecot)', () => {
  // 0.001 h = 3.6 s of failures before the mailbox is disabled.
  const world = new ListenerWorld();

  beforeAll(() => world.start({ env: { IMAP_AUTH_DISABLE_AFTER_HOURS: '0.001' } }), 60_000);
  afterAll(() => world.stop());

  it('goes to auth_error, does not hammer the server, then disables the mailbox with the reason', async () => {
    await world.dovecot.addUser('locked@contoso.com', 'right');
    const { id } = (await world.api.http.post('/v1/mailboxes').set(world.api.auth).send({ email: 'locked@contoso.com', password: 'wrong' }).expect(201)).body;
    const failing = await world.waitForState(id, 'auth_error');
    expect(failing.connection.lastError.code).toBe('AUTHENTICATIONFAILED');
    const disabled = await world.waitForState(id, 'disabled', 20_000);
    expect(disabled.connection.lastError).toMatchObject({ code: 'AUTH_FAILED_TOO_LONG', message: expect.stringMatching(/rejected the login since/) });
    const mailbox = (await world.api.http.get(`/v1/mailboxes/${id}`).set(world.api.auth).expect(200)).body;
    expect(mailbox.enabled).toBe(false);
    // Two or three attempts in the grace period, not one per second.
    const log = await world.dovecot.log();
    const attempts = (log.match(/locked@contoso\.com/g) ?? []).length;
    expect(attempts).toBeGreaterThanOrEqual(1);
    expect(attempts).toBeLessThanOrEqual(12);
    const events = await world.waitForEvents(id, 'mailbox.state_changed', (jobs) => jobs.some((j) => j.data.state === 'disabled'), 'the disabled event');
    const states = events.map((j) => j.data.state);
    expect(states).toEqual(expect.arrayContaining(['connecting', 'auth_error', 'disabled']));
  });

  it('a login refused as "temporarily unavailable" (the server\'s auth backend down) backs off like a drop: never auth_error, never disabled, connected once it works again', async () => {
    await world.dovecot.addUser('tempfail@contoso.com', 'right');
    await world.dovecot.setAuthUnavailable('tempfail@contoso.com', true);
    const { id } = (await world.api.http.post('/v1/mailboxes').set(world.api.auth).send({ email: 'tempfail@contoso.com', password: 'right' }).expect(201)).body;
    const failing = await world.waitForState(id, 'backoff');
    expect(failing.connection.lastError).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/Temporary authentication failure/) });
    expect(failing.recommendedAction).toMatch(/^Nothing to change on the mailbox: the mail server refuses logins for now/);
    // Longer than the 3.6 s after which a rejected password mailbox is disabled, and several attempts.
    await world.waitFor(
      async () => ((await world.dovecot.log()).match(/tempfail@contoso\.com.*Permission denied/g) ?? []).length,
      (refused) => refused >= 3,
      20_000,
      'three refused logins',
    );
    await world.dovecot.setAuthUnavailable('tempfail@contoso.com', false);
    await world.waitForState(id, 'connected', 20_000);
    const mailbox = (await world.api.http.get(`/v1/mailboxes/${id}`).set(world.api.auth).expect(200)).body;
    expect(mailbox.enabled).toBe(true);
    const events = await world.waitForEvents(id, 'mailbox.state_changed', (jobs) => jobs.some((j) => j.data.state === 'connected'), 'the connected event');
    const states = events.map((j) => j.data.state);
    expect(states).toContain('backoff');
    expect(states).not.toContain('auth_error');
    expect(states).not.toContain('disabled');
  });
});

/** Implicit TLS: "verify server certificate" on refuses the self-signed certificate, off accepts it. */
describe('IMAP over TLS (real Dovecot with a self-signed certificate)', () => {
  const world = new ListenerWorld();

  beforeAll(() => world.start({ dovecot: { tls: true } }), 60_000);
  afterAll(() => world.stop());

  async function providerOnTls(name: string, domain: string, verifyCertificate: boolean): Promise<void> {
    await world.api.http
      .post('/v1/providers')
      .set(world.api.auth)
      .send({ name, type: 'imap', host: '127.0.0.1', port: world.dovecot.tlsPort, secure: true, verifyCertificate, domains: [domain] })
      .expect(201);
  }

  it('connects when verification is off by explicit choice, refuses an untrusted certificate when on', async () => {
    await providerOnTls('TLS unverified', 'unverified.test', false);
    await providerOnTls('TLS verified', 'verified.test', true);
    const relaxed = await world.mailbox('ana@unverified.test');
    const strict = await world.mailbox('bo@verified.test');
    await world.waitForState(relaxed.id, 'connected');
    const refused = await world.waitForState(strict.id, 'backoff');
    expect(refused.connection.lastError).toMatchObject({ code: expect.stringMatching(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/), message: expect.stringContaining('not trusted') });
    expect(refused.recommendedAction).toMatch(/^The server is unreachable; retrying \(last error: .*not trusted/);
  });

  it('exports sync metrics that promtool accepts', async () => {
    const relaxed = (await world.api.http.get('/v1/mailboxes').query({ email: 'ana@unverified.test' }).set(world.api.auth)).body.items[0];
    await world.dovecot.deliver('ana@unverified.test', buildMessage({ subject: 'over tls' }));
    await world.waitForReceived(relaxed.id, 1);
    const text = await (await fetch(`${world.listener!.url}/metrics`)).text();
    expect(text).toMatch(/^mail_listener_mailboxes\{state="connected",app="listener"\} [1-9]/m);
    expect(text).toMatch(/^mail_listener_mailboxes\{state="backoff",app="listener"\} [1-9]/m);
    expect(text).toMatch(/^mail_listener_events_published_total\{type="mail.received",app="listener"\} [1-9]/m);
    expect(text).toMatch(/^mail_listener_sync_lag_seconds_count\{app="listener"\} [1-9]/m);
    expect(text).toMatch(/^mail_listener_owned_mailboxes\{app="listener"\} 2/m);
    expect(text).toMatch(/^mail_listener_seconds_since_last_sync_max\{app="listener"\} /m);
    expect(execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' }).trim()).toBe('');
  });
});
