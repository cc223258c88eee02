import { eventId } from '@app/events';
import { OAuthTokenStore, TokenRefreshScheduler } from '@app/oauth';
import { appProcessEnv, ENTRY_POINTS, freePort, ListenerWorld, MailEventsWatch, OAuthWorld, queryDatabase, RedisServer, startAppProcess, startListener } from '@app/testing';

/**
 * A status change and its `mailbox.state_changed` event are one unit: an event whose publish cannot
 * happen (Redis unreachable) after the row was written reaches `mail-events` once Redis is back — also
 * when the process that wrote the row has died meanwhile — and exactly once (no `duplicated`).
 * Runs on a private redis-server that the tests stop and start; the shared Redis is never touched.
 */
describe('state events while Redis is unreachable (real listener, Dovecot, Postgres, private Redis)', () => {
  const world = new ListenerWorld();
  let redis: RedisServer;
  let watch: MailEventsWatch;

  beforeAll(async () => {
    redis = await RedisServer.start();
    await world.start({ env: { REDIS_URL: redis.url } });
    watch = await MailEventsWatch.open(redis.url, world.config.queuePrefix);
  }, 60_000);
  afterAll(async () => {
    await redis?.resume();
    await watch?.close();
    await world.stop();
    await redis?.stop();
    // After a failed test the in-process apps' Redis clients may be deep in their reconnect backoff.
  }, 120_000);

  const statusRow = async (mailboxId: string) =>
    (await queryDatabase<{ state: string; v: number }>(world.db.url, `SELECT connection_state AS state, state_version::int AS v FROM mailbox_status WHERE mailbox_id = $1`, [mailboxId]))[0];

  /** Waits for the events of versions from..to of a mailbox, then checks nothing was published twice. */
  async function expectPublishedOnce(mailboxId: string, from: number, to: number): Promise<Record<string, any>[]> {
    const events: Record<string, any>[] = [];
    for (let version = from; version <= to; version++) {
      const id = `mailbox.state_changed.${mailboxId}.${version}`;
      await watch.waitForAdded((job) => job.jobId === id, 20_000, id);
      events.push(await watch.data(id));
    }
    await watch.settle();
    expect(watch.duplicated).toEqual([]);
    return events;
  }

  it('changes written while Redis is away do not wait for it, and are published once when it is back', async () => {
    const mailbox = await world.mailbox('away@contoso.com');
    const connected = await watch.waitForStateChanged(mailbox.id, 'connected');

    await redis.stop();
    await world.dovecot.kickUser(mailbox.email);
    // Dropped, backoff, reconnected: the listener goes on while every publish would have to wait.
    await world.waitFor(() => statusRow(mailbox.id), (row) => row.state === 'connected' && row.v === connected.version + 3, 20_000, 'reconnected while Redis is away');
    // The API reports the backlog from Postgres, Redis or not.
    const backlog = () => world.metric(world.api.url, 'mail_listener_event_outbox_backlog');
    expect(await backlog()).toBeGreaterThanOrEqual(3);
    expect(await world.metric(world.api.url, 'mail_listener_event_outbox_oldest_seconds')).toBeGreaterThan(0);

    await redis.resume();
    const events = await expectPublishedOnce(mailbox.id, connected.version + 1, connected.version + 3);
    await world.waitFor(backlog, (n) => n === 0, 10_000, 'an empty outbox');
    expect(await world.metric(world.api.url, 'mail_listener_event_outbox_oldest_seconds')).toBe(0);
    expect(events.map((event) => [event.previous, event.state])).toEqual([
      ['connected', 'backoff'],
      ['backoff', 'connecting'],
      ['connecting', 'connected'],
    ]);
  }, 90_000);

  // About 1 run in 10 under CPU load this listener used to hang after its bounded closes until it was
  // killed: the shared Redis connection's QUIT waited in ioredis' offline queue behind a command queued
  // during the outage (closeRedisConnections in @app/redis, and its spec, show it).
  it('a listener stopped (SIGTERM) while Redis is away exits 0, and its pending state reaches mail-events once Redis is back', async () => {
    // A real process: its exit code is what an orchestrator sees (BullMQ's closes never settle without Redis).
    await world.listener!.close();
    world.listener = undefined;
    const stopping = startAppProcess(ENTRY_POINTS.listener, appProcessEnv(world.config, await freePort()));
    try {
      const mailbox = await world.mailbox('stopping@contoso.com');
      // A process just started, on a busy machine: its first connect may take longer than the usual 15 s.
      const connected = await watch.waitForStateChanged(mailbox.id, 'connected', { timeoutMs: 45_000 });
      await redis.stop();
      // Killed with SIGKILL (137) if it has not exited 20 s after the SIGTERM.
      const code = await stopping.stop('SIGTERM');
      // What it was waiting for when killed (the shutdown's own log lines), if it did not exit by itself.
      if (code !== 0) console.log(`listener exit ${code}; its output:\n${stopping.output().split('\n').filter((line) => !line.includes('ECONNREFUSED')).slice(-80).join('\n')}`);
      expect(code).toBe(0);
      await redis.resume();
      const pending = await watch.waitForStateChanged(mailbox.id, 'pending', { after: connected.version });
      expect(pending.data.previous).toBe('connected');
      world.listener = await startListener(world.config);
      await watch.waitForStateChanged(mailbox.id, 'connected', { after: pending.version });
      await watch.settle();
      expect(watch.duplicated).toEqual([]);
    } finally {
      if (stopping.child.exitCode === null && stopping.child.signalCode === null) await stopping.stop('SIGKILL');
      // A failure above leaves Redis stopped: the next test and the clean-up need it (resume is a no-op if running).
      await redis.resume();
    }
  }, 90_000);

  it('changes written by a listener killed while Redis was away are published once it is back, by the relays that live on', async () => {
    // A real listener process, so it can die the way processes die (SIGKILL), with nothing flushed.
    await world.listener?.close();
    world.listener = undefined;
    const killed = startAppProcess(ENTRY_POINTS.listener, appProcessEnv(world.config, await freePort()));
    try {
      const mailbox = await world.mailbox('gone@contoso.com');
      const connected = await watch.waitForStateChanged(mailbox.id, 'connected');

      await redis.stop();
      await world.dovecot.kickUser(mailbox.email);
      await world.waitFor(() => statusRow(mailbox.id), (row) => row.state === 'connected' && row.v === connected.version + 3, 20_000, 'reconnected while Redis is away');
      expect(await killed.stop('SIGKILL')).toBe(137);

      await redis.resume();
      world.listener = await startListener(world.config);
      const events = await expectPublishedOnce(mailbox.id, connected.version + 1, connected.version + 3);
      expect(events.map((event) => event.state)).toEqual(['backoff', 'connecting', 'connected']);
      // The new process takes the mailbox over from there: its versions follow on.
      const again = await watch.waitForStateChanged(mailbox.id, 'connected', { after: connected.version + 3 });
      expect(again.version).toBe(connected.version + 5);
      await watch.settle();
      expect(watch.duplicated).toEqual([]);
    } finally {
      if (killed.child.exitCode === null && killed.child.signalCode === null) await killed.stop('SIGKILL');
      await redis.resume();
    }
  }, 90_000);
});

/**
 * `mailbox.auth_failed` is written with the token turning invalid: when Redis refuses the publish (an ACL
 * that lets the refresh lock through but makes `mail-events` read-only), the event waits in the outbox and
 * goes out once, as soon as Redis accepts it again.
 */
describe('mailbox.auth_failed when its publish is refused (real listener, fake Entra ID, Postgres, private Redis)', () => {
  const world = new OAuthWorld();
  let redis: RedisServer;
  let watch: MailEventsWatch;

  beforeAll(async () => {
    redis = await RedisServer.start();
    await world.start({ listener: true, env: { REDIS_URL: redis.url } });
    await world.createMicrosoftProvider({ name: 'Contoso', domains: ['contoso.com'] });
    world.entra.setAccessTokenLifetime(3600);
    watch = await MailEventsWatch.open(redis.url, world.config.queuePrefix);
  }, 60_000);
  afterAll(async () => {
    await redis?.command('ACL', 'SETUSER', 'default', 'allkeys');
    await watch?.close();
    await world.stop();
    await redis?.stop();
  });

  it('a revoked grant whose event cannot be published at first still reaches mail-events, once', async () => {
    const email = 'revoked@contoso.com';
    world.entra.addUser({ username: email });
    const { id } = await world.createMailbox(email);
    await world.api.http.put(`/v1/mailboxes/${id}/token`).set(world.api.auth).send({ refreshToken: await world.refreshTokenFor(email) }).expect(200);
    const token = (await world.listener!.app.get(OAuthTokenStore).findByMailbox(id))!;
    const authFailed = eventId('mailbox.auth_failed', id, token.generation);

    const prefix = world.config.queuePrefix;
    // Everything but mail-events as before; mail-events readable (the watch) but not writable.
    await redis.command('ACL', 'SETUSER', 'default', 'resetkeys', '~mail-listener:*', `~${prefix}:graph-notifications*`, `%R~${prefix}:mail-events*`);
    world.entra.revokeGrants(email, 'revoked');
    world.clock.advance(49 * 60_000);
    const outcomes = await world.listener!.app.get(TokenRefreshScheduler).runOnce().catch((error: unknown) => [String(error)]);
    expect((await world.status(id)).token).toMatchObject({ state: 'invalid', lastError: { code: 'AADSTS50173' } });
    expect(await watch.queueHas(authFailed)).toBe(false);

    await redis.command('ACL', 'SETUSER', 'default', 'allkeys');
    await watch.waitForAdded((job) => job.jobId === authFailed, 20_000, authFailed);
    expect(await watch.data(authFailed)).toMatchObject({
      type: 'mailbox.auth_failed',
      mailbox: { id, email, externalId: null },
      reason: { code: 'AADSTS50173' },
      recommendedAction: expect.stringMatching(/^Sign in again/),
    });
    await watch.settle();
    expect(watch.duplicated).toEqual([]);
    // The refresh itself completed: a publish failure is the relay's to retry, not the refresher's.
    expect(outcomes).toEqual(['permanent_failure']);
  }, 90_000);
});
