import { execFileSync } from 'node:child_process';
import { ClusterOverviewService, ReplicaRegistry } from '@app/cluster';
import { queryDatabase, RunningApi, TestDatabase, useApiSuite } from '@app/testing';

/**
 * GET /v1/cluster and the fleet gauges against the real API and Postgres. Replicas announce themselves
 * through the real ReplicaRegistry; who holds a mailbox is its lease in mailbox_leases, set here
 * directly so every case (draining, dead, disabled, never held) is there at once.
 */
describe('GET /v1/cluster (real API, real Postgres)', () => {
  // A 5 s lease time (production: 10 s): a replica silent for 6 s is dead by this API's configuration,
  // and one registered during the test stays alive even on a slow machine.
  const suite = useApiSuite({ CLUSTER_HEARTBEAT_MS: '1000', CLUSTER_LEASE_TTL_MS: '5000' });
  let api: RunningApi;
  let db: TestDatabase;
  let registry: ReplicaRegistry;

  beforeAll(() => {
    ({ api, db } = suite);
    registry = api.app.get(ReplicaRegistry, { strict: false });
  });

  const cluster = async () => (await api.http.get('/v1/cluster').set(api.auth).expect(200)).body;

  it('answers an empty fleet with no replicas and no mailboxes', async () => {
    expect(await cluster()).toEqual({ replicas: [], mailboxes: { total: 0, owned: 0, unowned: 0 } });
  });

  it('needs an API key', async () => {
    await api.http.get('/v1/cluster').expect(401);
  });

  it('lists live and draining replicas with the enabled mailboxes each holds; dead replicas and their mailboxes are not counted', async () => {
    await api.http.post('/v1/providers').set(api.auth).send({ name: 'Dovecot', type: 'imap', host: 'imap.contoso.com', domains: ['contoso.com'] }).expect(201);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await api.http.post('/v1/mailboxes').set(api.auth).send({ email: `u${i}@contoso.com`, password: 'pw' }).expect(201)).body.id);
    await api.http.patch(`/v1/mailboxes/${ids[6]}`).set(api.auth).send({ enabled: false }).expect(200);

    for (const id of ['listener-b', 'listener-a', 'listener-c', 'listener-d']) await registry.register(id);
    await queryDatabase(db.url, `UPDATE listener_replicas SET state = 'draining' WHERE id = 'listener-b'`);
    // listener-c went silent 6 s ago by the database's clock: past the 5 s lease time, so dead.
    await queryDatabase(db.url, `UPDATE listener_replicas SET heartbeat_at = now() - interval '6 seconds' WHERE id = 'listener-c'`);
    const holders: Array<[string, string]> = [
      [ids[0], 'listener-a'],
      [ids[1], 'listener-a'],
      [ids[2], 'listener-b'],
      [ids[3], 'listener-c'], // dead owner: unowned
      [ids[4], 'listener-gone'], // a replica with no row at all: unowned
      // ids[5]: never held by any listener: unowned
      [ids[6], 'listener-a'], // disabled: not counted, whatever the row says
    ];
    for (const [mailboxId, owner] of holders) {
      await queryDatabase(
        db.url,
        `INSERT INTO mailbox_leases (mailbox_id, owner_id, epoch, acquired_at) VALUES ($1, $2, 1, now())
         ON CONFLICT (mailbox_id) DO UPDATE SET owner_id = EXCLUDED.owner_id`,
        [mailboxId, owner],
      );
    }

    const body = await cluster();
    expect(body).toEqual({
      replicas: [
        { id: 'listener-a', state: 'live', startedAt: expect.any(String), heartbeatAt: expect.any(String), mailboxes: 2 },
        { id: 'listener-b', state: 'draining', startedAt: expect.any(String), heartbeatAt: expect.any(String), mailboxes: 1 },
        { id: 'listener-d', state: 'live', startedAt: expect.any(String), heartbeatAt: expect.any(String), mailboxes: 0 },
      ],
      mailboxes: { total: 6, owned: 3, unowned: 3 },
    });
    for (const replica of body.replicas) {
      expect(new Date(replica.startedAt).toISOString()).toBe(replica.startedAt);
      expect(Date.parse(replica.heartbeatAt)).toBeGreaterThanOrEqual(Date.parse(replica.startedAt));
    }

    // One replica's row (a mailbox's console page asks for its owner's only): the same as in the list;
    // none for a dead, an unknown or a never-registered replica.
    const overview = api.app.get(ClusterOverviewService, { strict: false });
    for (const replica of body.replicas) expect(await overview.replica(replica.id)).toEqual(replica);
    for (const id of ['listener-c', 'listener-gone', 'nobody']) expect(await overview.replica(id)).toBeNull();

    // The same numbers on /metrics, where Prometheus reads them; promtool accepts the exposition.
    const metrics = (await api.http.get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/^mail_listener_cluster_replicas\{state="live",app="api"\} 2$/m);
    expect(metrics).toMatch(/^mail_listener_cluster_replicas\{state="draining",app="api"\} 1$/m);
    expect(metrics).toMatch(/^mail_listener_unowned_mailboxes\{app="api"\} 3$/m);
    expect(execFileSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' }).trim()).toBe('');

    // A replica that beats again is back in the list, with what it holds.
    await registry.beat('listener-c');
    expect((await cluster()).mailboxes).toEqual({ total: 6, owned: 4, unowned: 2 });
  });
});
