import { execFileSync } from 'node:child_process';
import { Client } from 'pg';
import { appProcessEnv, AppProcess, ENTRY_POINTS, freePort, ListenerWorld, queryDatabase, startAppProcess, waitForHttpOk } from '@app/testing';

const HEARTBEAT_MS = 200;
const LEASE_TTL_MS = 1000;

interface ClusterBody {
  replicas: Array<{ id: string; state: string; startedAt: string; heartbeatAt: string; mailboxes: number }>;
  mailboxes: { total: number; owned: number; unowned: number };
}

/** GET /v1/cluster with two real listener processes on Dovecot mailboxes, one of them killed with SIGKILL. */
describe('GET /v1/cluster with listener processes (real API, Dovecot, Postgres, Redis)', () => {
  const world = new ListenerWorld();

  // Short beats and lease time so the killed replica's silence counts within the test (production: 2 s, 10 s).
  beforeAll(() => world.start({ listener: false, env: { CLUSTER_HEARTBEAT_MS: String(HEARTBEAT_MS), CLUSTER_LEASE_TTL_MS: String(LEASE_TTL_MS) } }), 60_000);
  afterAll(() => world.stop());

  const cluster = async (): Promise<ClusterBody> => (await world.api.http.get('/v1/cluster').set(world.api.auth).expect(200)).body;

  it('lists both replicas with the mailboxes their statuses name; a killed one drops out once its lease time has passed', async () => {
    const mailboxes: Array<{ id: string; email: string }> = [];
    for (let i = 0; i < 4; i++) mailboxes.push(await world.mailbox(`cluster${i}@contoso.com`));
    const ports = [await freePort(), await freePort()];
    const listeners: Record<string, AppProcess> = {
      'listener-a': startAppProcess(ENTRY_POINTS.listener, { ...appProcessEnv(world.config, ports[0]), LISTENER_ID: 'listener-a' }),
      'listener-b': startAppProcess(ENTRY_POINTS.listener, { ...appProcessEnv(world.config, ports[1]), LISTENER_ID: 'listener-b' }),
    };
    try {
      await waitForHttpOk(`http://127.0.0.1:${ports[0]}/health/ready`, listeners['listener-a']);
      await waitForHttpOk(`http://127.0.0.1:${ports[1]}/health/ready`, listeners['listener-b']);
      for (const mailbox of mailboxes) await world.waitForState(mailbox.id, 'connected');

      // What each replica holds must agree with the owners the mailboxes' own statuses name.
      const owners = async () => Promise.all(mailboxes.map(async (mailbox) => (await world.status(mailbox.id)).owner as string | null));
      const settled = await world.waitFor(
        async () => ({ body: await cluster(), owners: await owners() }),
        ({ body, owners: named }) =>
          body.replicas.map((replica) => replica.id).join() === 'listener-a,listener-b' &&
          body.replicas.every((replica) => replica.mailboxes === named.filter((owner) => owner === replica.id).length) &&
          body.mailboxes.owned === 4,
        15_000,
        'both listeners listed, holding what the statuses say',
      );
      expect(settled.body.mailboxes).toEqual({ total: 4, owned: 4, unowned: 0 });
      expect(settled.body.replicas.every((replica) => replica.state === 'live')).toBe(true);

      // The listener registers the lease counters (at 0 until something moves), and its exposition still passes promtool.
      const metrics = await (await fetch(`http://127.0.0.1:${ports[0]}/metrics`)).text();
      // Nothing died or drained yet; a rebalance may have happened: the replica that started first took
      // every mailbox in its first round (it saw only itself), and the other asked for its share.
      for (const reason of ['dead', 'drain']) expect(metrics).toMatch(new RegExp(`^mail_listener_lease_takeovers_total\\{reason="${reason}",app="listener"\\} 0$`, 'm'));
      expect(metrics).toMatch(/^mail_listener_lease_takeovers_total\{reason="rebalance",app="listener"\} \d+$/m);
      expect(metrics).toMatch(/^mail_listener_fenced_writes_total\{app="listener"\} 0$/m);
      expect(execFileSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' }).trim()).toBe('');

      // SIGKILL: no shutdown hook runs, the row stays as it was; only its silence can tell.
      const killedAt = Date.now();
      listeners['listener-b'].child.kill('SIGKILL');
      expect(await listeners['listener-b'].exited).toBe(137);
      const after = await world.waitFor(cluster, (body) => body.replicas.length === 1, LEASE_TTL_MS + 5_000, 'listener-b to drop out');
      const goneAt = Date.now();
      const [lastBeat] = await queryDatabase<{ heartbeat_at: Date }>(world.db.url, `SELECT heartbeat_at FROM listener_replicas WHERE id = 'listener-b'`);
      // Not before the lease time after its last heartbeat (Postgres runs on this machine: one clock)…
      expect(goneAt - lastBeat.heartbeat_at.getTime()).toBeGreaterThanOrEqual(LEASE_TTL_MS);
      // …and not long after it either.
      expect(goneAt - killedAt).toBeLessThan(LEASE_TTL_MS + 3_000);
      expect(after.replicas.map((replica) => replica.id)).toEqual(['listener-a']);
      // Whatever the dead replica held no longer counts as owned.
      expect(after.mailboxes.owned).toBe(after.replicas[0].mailboxes);
      expect(after.mailboxes).toEqual({ total: 4, owned: after.replicas[0].mailboxes, unowned: 4 - after.replicas[0].mailboxes });

      expect(await listeners['listener-a'].stop()).toBe(0);
    } finally {
      await Promise.all(Object.values(listeners).map((listener) => listener.stop('SIGKILL')));
    }
  }, 90_000);

  it('a drain that runs out of time releases what is left, exits 0, and says at warn what to raise', async () => {
    for (let i = 0; i < 3; i++) await world.mailbox(`drain-timeout${i}@contoso.com`);
    const ports = [await freePort(), await freePort()];
    // The drained replica gives itself a second; the other has room for one mailbox only, so most of the
    // drained replica's mailboxes cannot be handed over in any time: the drain must time out.
    const draining = startAppProcess(ENTRY_POINTS.listener, { ...appProcessEnv(world.config, ports[0]), LISTENER_ID: 'listener-drains', CLUSTER_DRAIN_TIMEOUT_MS: '1000' });
    let capped: AppProcess | undefined;
    try {
      await waitForHttpOk(`http://127.0.0.1:${ports[0]}/health/ready`, draining);
      const enabled = Number((await queryDatabase<{ n: number }>(world.db.url, `SELECT count(*)::int AS n FROM mailboxes WHERE enabled`))[0].n);
      const held = (owner: string) => queryDatabase<{ mailbox_id: string }>(world.db.url, `SELECT mailbox_id FROM mailbox_leases WHERE owner_id = $1`, [owner]);
      await world.waitFor(() => held('listener-drains'), (rows) => rows.length === enabled, 15_000, 'the first replica to hold every mailbox');
      capped = startAppProcess(ENTRY_POINTS.listener, { ...appProcessEnv(world.config, ports[1]), LISTENER_ID: 'listener-capped', LISTENER_MAX_MAILBOXES: '1' });
      await waitForHttpOk(`http://127.0.0.1:${ports[1]}/health/ready`, capped);
      await world.waitFor(() => held('listener-capped'), (rows) => rows.length === 1, 15_000, 'the capped replica to take its one mailbox');

      expect(await draining.stop('SIGTERM')).toBe(0);
      const line = draining
        .output()
        .split('\n')
        .find((text) => text.includes('"level":40') && text.includes('drain timeout reached'));
      expect(line).toBeDefined();
      const warned = JSON.parse(line!) as { msg: string };
      expect(warned.msg).toMatch(new RegExp(`^Drained in \\d+ ms \\(drain timeout reached\\); releasing ${enabled - 1} mailbox\\(es\\) still held: each goes without a listening session`));
      expect(warned.msg).toContain('raise CLUSTER_DRAIN_TIMEOUT_MS');
      // What was left is free for anyone at once, not held until a lease time passes.
      expect(await held('listener-drains')).toEqual([]);
      expect(await capped.stop()).toBe(0);
    } finally {
      await draining.stop('SIGKILL');
      await capped?.stop('SIGKILL');
    }
  }, 90_000);

  it('a listener reports ready only once its first lease round succeeded', async () => {
    // The leases table held under an exclusive lock: Postgres and Redis answer, but no lease round can finish.
    const locker = new Client({ connectionString: world.db.url });
    await locker.connect();
    const port = await freePort();
    let listener: AppProcess | undefined;
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE mailbox_leases IN ACCESS EXCLUSIVE MODE');
      listener = startAppProcess(ENTRY_POINTS.listener, { ...appProcessEnv(world.config, port), LISTENER_ID: 'listener-ready' });
      await waitForHttpOk(`http://127.0.0.1:${port}/health/live`, listener);
      const waiting = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(waiting.status).toBe(503);
      expect(await waiting.json()).toMatchObject({ error: { leases: { status: 'down', message: 'no lease round has succeeded yet' } }, info: { database: { status: 'up' }, redis: { status: 'up' } } });
      await locker.query('COMMIT');
      await waitForHttpOk(`http://127.0.0.1:${port}/health/ready`, listener, 10_000);
      expect(await listener.stop()).toBe(0);
    } finally {
      await locker.end();
      await listener?.stop('SIGKILL');
    }
  }, 60_000);
});
