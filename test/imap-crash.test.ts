import { appProcessEnv, buildMessage, ENTRY_POINTS, freePort, ListenerWorld, startAppProcess, waitForHttpOk } from '@app/testing';


/**
 * A listener process killed with SIGKILL while mail arrives, then restarted: every message published,
 * once under its id, re-published under the same id only if the killed process had published it without
 * writing its cursor.
 */
describe('IMAP listener crash and restart (real processes, Dovecot, Postgres, Redis)', () => {
  const world = new ListenerWorld();

  // A short lease time, so the dead listener's claim lapses within the test (production: 2 s beats, 10 s lease).
  beforeAll(() => world.start({ listener: false, env: { CLUSTER_HEARTBEAT_MS: '200', CLUSTER_LEASE_TTL_MS: '1000' } }), 60_000);
  afterAll(() => world.stop());

  it('publishes every message that arrived before, during and after the crash, once each', async () => {
    const mailbox = await world.mailbox('crash@contoso.com');
    const port = await freePort();
    let listener = startAppProcess(ENTRY_POINTS.listener, appProcessEnv(world.config, port));
    try {
      await waitForHttpOk(`http://127.0.0.1:${port}/health/ready`, listener);
      await world.waitForState(mailbox.id, 'connected');

      const delivered: number[] = [];
      const deliver = async (count: number, label: string) => {
        for (let i = 0; i < count; i++) {
          delivered.push((await world.dovecot.deliver(mailbox.email, buildMessage({ subject: `${label} ${i}` }))).uid);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      };
      await deliver(20, 'before');
      await world.waitForReceived(mailbox.id, 20);
      // Crash mid-stream: no shutdown hook runs, nothing is released.
      const during = deliver(30, 'during');
      await new Promise((resolve) => setTimeout(resolve, 150));
      const deliveredBeforeKill = delivered.length;
      listener.child.kill('SIGKILL');
      expect(await listener.exited).toBe(137);
      await during;
      await deliver(10, 'while down');

      // The dead process cannot say it stopped; once its lease time has passed the status must not
      // keep saying `connected` with it as the owner.
      const silent = await world.waitForState(mailbox.id, 'pending', 10_000);
      expect(silent.owner).toBeNull();
      expect(silent.connection.lastError).toMatchObject({ code: 'LISTENER_UNRESPONSIVE', message: expect.stringContaining('has not been heard from since') });
      expect(silent.recommendedAction).toContain('No listener is syncing this mailbox');

      listener = startAppProcess(ENTRY_POINTS.listener, appProcessEnv(world.config, port));
      await waitForHttpOk(`http://127.0.0.1:${port}/health/ready`, listener);
      const back = await world.waitForState(mailbox.id, 'connected');
      expect(back.owner).toEqual(expect.any(String));
      expect(back.connection.lastError).toBeNull();
      await deliver(10, 'after');
      await world.waitForReceived(mailbox.id, delivered.length, 30_000);
      // The cursor at the last UID: no later fetch can publish any of these again.
      const status = await world.waitFor(() => world.status(mailbox.id), (s) => s.sync.folders[0].lastUid === Math.max(...delivered), 10_000, 'the cursor at the last UID');
      await world.watch.settle();
      const jobs = await world.received(mailbox.id);
      expect(jobs).toHaveLength(70);
      expect(jobs.map((job) => job.data.message.uid).sort((a, b) => a - b)).toEqual([...delivered].sort((a, b) => a - b));
      expect(new Set(jobs.map((job) => job.id)).size).toBe(70);
      expect(status.sync.folders[0].lastUid).toBe(Math.max(...delivered));
      // Re-published under the same id (dropped by the queue): only what the killed process had published
      // without writing its cursor, i.e. messages delivered before the kill; at most one batch of them.
      const uidOf = (jobId: string) => Number(jobId.split('.').pop());
      const inFlight = new Set(delivered.slice(0, deliveredBeforeKill));
      const duplicated = world.duplicatedMail(mailbox.id).map(uidOf);
      expect(duplicated.filter((uid) => !inFlight.has(uid))).toEqual([]);
      expect(duplicated.length).toBeLessThanOrEqual(deliveredBeforeKill - 20);
      expect(await listener.stop()).toBe(0);
      // A clean stop hands the mailbox back.
      expect((await world.status(mailbox.id)).connection.state).toBe('pending');
    } finally {
      await listener.stop('SIGKILL');
    }
  }, 90_000);
});
