import { buildMessage, ListenerWorld, TcpProxy } from '@app/testing';

/**
 * A connection that dies silently (no FIN, no RST: a NAT forgetting the flow) must not leave a mailbox
 * "connected" and deaf: the safety sweep notices the missing answer, reconnects and catches up.
 */
describe('IMAP dead connection (real Dovecot behind a TCP relay)', () => {
  const world = new ListenerWorld();
  let proxy: TcpProxy;

  beforeAll(async () => {
    // A sweep every 3 s (and a 3 s answer deadline) so the test does not wait a quarter of an hour.
    await world.start({ env: { IMAP_SAFETY_SWEEP_MINUTES: '0.05' } });
    proxy = await TcpProxy.start(world.dovecot.port);
    await world.api.http
      .post('/v1/providers')
      .set(world.api.auth)
      .send({ name: 'Dovecot via relay', type: 'imap', host: '127.0.0.1', port: proxy.port, secure: false, domains: ['relay.test'] })
      .expect(201);
  }, 60_000);
  afterAll(async () => {
    await world.stop();
    await proxy?.stop();
  });

  it('reconnects after the sweep goes unanswered and publishes the mail that arrived meanwhile, once', async () => {
    const email = 'ana@relay.test';
    await world.dovecot.addUser(email, `pw-${email}`);
    const { id } = (await world.api.http.post('/v1/mailboxes').set(world.api.auth).send({ email, password: `pw-${email}` }).expect(201)).body;
    await world.waitForState(id, 'connected');
    expect((await world.status(id)).owner).toBe(world.config.listener.id);
    await world.dovecot.deliver(email, buildMessage({ subject: 'before' }));
    await world.waitForReceived(id, 1, 5_000);

    const connectionsBefore = proxy.connections;
    expect(proxy.blackhole()).toBeGreaterThanOrEqual(1);
    // IDLE's EXISTS for these goes into the black hole.
    await world.dovecot.deliver(email, buildMessage({ subject: 'during 1' }));
    await world.dovecot.deliver(email, buildMessage({ subject: 'during 2' }));

    const jobs = await world.waitForReceived(id, 3, 20_000);
    expect(jobs.map((job) => job.data.message.subject).sort()).toEqual(['before', 'during 1', 'during 2']);
    expect(new Set(jobs.map((job) => job.id)).size).toBe(3);
    // It came back through a new connection.
    expect(proxy.connections).toBeGreaterThan(connectionsBefore);
    const states = (await world.events.jobs())
      .filter((job) => job.name === 'mailbox.state_changed' && job.data.mailbox.id === id)
      .sort((a, b) => a.data.occurredAt.localeCompare(b.data.occurredAt))
      .map((job) => job.data.state);
    expect(states).toContain('backoff');
    const backoff = (await world.events.jobs()).find((job) => job.name === 'mailbox.state_changed' && job.data.mailbox.id === id && job.data.state === 'backoff');
    expect(backoff!.data.reason.code).toBe('SWEEP_TIMEOUT');
    await world.waitForState(id, 'connected');

    // Nothing twice after things settle.
    await world.dovecot.deliver(email, buildMessage({ subject: 'after' }));
    const all = await world.waitForReceived(id, 4, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect((await world.received(id)).length).toBe(4);
    expect(all.map((job) => job.data.message.subject).sort()).toEqual(['after', 'before', 'during 1', 'during 2']);
  }, 60_000);
});
