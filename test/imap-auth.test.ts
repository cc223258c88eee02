import { ListenerWorld } from '@app/testing';

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
    const states = (await world.events.jobs()).filter((j) => j.name === 'mailbox.state_changed' && j.data.mailbox.id === id).map((j) => j.data.state);
    expect(states).toEqual(expect.arrayContaining(['connecting', 'auth_error', 'disabled']));
  });
});
