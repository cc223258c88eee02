import { ListenerWorld, MailEventsWatch } from '@app/testing';

/**
 * `mailbox.state_changed` as the CRM sees it when a mailbox is disabled and enabled through the API while
 * the listener runs it: one event per change, keyed by the status row's version, whoever made the change.
 */
describe('mailbox.state_changed from API enable/disable (real API, listener, Dovecot, Postgres, Redis)', () => {
  const world = new ListenerWorld();
  let watch: MailEventsWatch;

  beforeAll(async () => {
    await world.start();
    watch = await MailEventsWatch.open(world.config.redisUrl, world.config.queuePrefix);
  }, 60_000);
  afterAll(async () => {
    await watch?.close();
    await world.stop();
  });

  it('disabling a connected mailbox publishes state_changed (disabled) once, and enabling it again continues the versions', async () => {
    const mailbox = await world.mailbox('dis@contoso.com');
    const connected = await watch.waitForStateChanged(mailbox.id, 'connected');

    await world.api.http.patch(`/v1/mailboxes/${mailbox.id}`).set(world.api.auth).send({ enabled: false }).expect(200);
    const disabled = await watch.waitForStateChanged(mailbox.id, 'disabled', { after: connected.version, timeoutMs: 10_000 });
    expect(disabled.version).toBe(connected.version + 1);
    expect(disabled.data).toMatchObject({
      id: `mailbox.state_changed.${mailbox.id}.${disabled.version}`,
      type: 'mailbox.state_changed',
      mailbox: { id: mailbox.id, email: mailbox.email, externalId: null },
      state: 'disabled',
      previous: 'connected',
    });
    await world.waitFor(() => world.dovecot.connectionsOf(mailbox.email), (c) => c.length === 0, 5_000, 'session of the disabled mailbox closed');
    expect((await world.status(mailbox.id)).connection).toMatchObject({ state: 'disabled' });

    await world.api.http.patch(`/v1/mailboxes/${mailbox.id}`).set(world.api.auth).send({ enabled: true }).expect(200);
    const pending = await watch.waitForStateChanged(mailbox.id, 'pending', { after: disabled.version });
    expect(pending).toMatchObject({ version: disabled.version + 1, data: { previous: 'disabled' } });
    // Room for one failed attempt (a connect times out after 15 s, then backoff): this test is about the
    // versions, not how fast a login goes through on a loaded machine.
    const again = await watch.waitForStateChanged(mailbox.id, 'connected', { after: pending.version, timeoutMs: 30_000 });
    // connecting, connected (and a backoff and connecting more per failed attempt); every one published below.
    expect(again.version).toBeGreaterThanOrEqual(pending.version + 2);

    await watch.settle();
    const prefix = `mailbox.state_changed.${mailbox.id}.`;
    const versions = watch.added.filter((job) => job.jobId.startsWith(prefix)).map((job) => Number(job.jobId.slice(prefix.length))).sort((a, b) => a - b);
    // One event per version, no gaps: every change of the row was published, none twice.
    expect(versions).toEqual(Array.from({ length: again.version }, (_, i) => i + 1));
    expect(watch.duplicated).toEqual([]);
  });
});
