import { isImapSessionProcess, ListenerWorld } from '@app/testing';

/**
 * A listener that lets its mailboxes go (its shutdown as a lone replica, a drain's leftovers at
 * CLUSTER_DRAIN_TIMEOUT_MS) closes their sessions without a word, as a hand-over does: a LOGOUT, or the
 * DONE before it, makes Dovecot wake each hibernated session (an imap process started and the session
 * imported into it, as costly as a login), and the next owner logs in anyway. A restart of one replica
 * of 10,000 mailboxes would otherwise cost the mail server 10,000 such wakes on top of 10,000 logins.
 * Dovecot's log says which process ended the session.
 */
describe('Listener shutdown: released sessions are not woken at Dovecot', () => {
  let world: ListenerWorld;

  beforeAll(async () => {
    world = await new ListenerWorld().start({ dovecot: { hibernate: true } });
  });
  afterAll(async () => {
    await world?.stop();
  });

  it('a hibernated session of a released mailbox ends at imap-hibernate, and the mailbox is left pending', async () => {
    const mailbox = await world.mailbox('sleeper@contoso.com');
    await world.waitForState(mailbox.id, 'connected');
    // imap_hibernate_timeout = 5s: once no imap process is left, the session is at imap-hibernate.
    await world.waitFor(
      async () => world.dovecot.processes().filter(isImapSessionProcess).length,
      (imapProcesses) => imapProcesses === 0,
      20_000,
      'the session to hibernate',
    );
    await world.listener!.close();
    world.listener = undefined;
    const ended = await world.waitFor(
      () => world.dovecot.sessionEndOf('sleeper@contoso.com'),
      (line) => line !== undefined,
      15_000,
      'Dovecot to log the end of the session',
    );
    expect(ended).toMatch(/imap-hibernate\(sleeper@contoso\.com\).*Disconnected: Connection closed/);
    expect((await world.status(mailbox.id)).connection.state).toBe('pending');
  }, 60_000);
});
