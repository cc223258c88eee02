import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, Queue } from 'bullmq';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { GRAPH_NOTIFICATIONS_QUEUE, GraphNotificationJob, hashClientState, MAX_NOTIFICATIONS_PER_POST } from '@app/graph';
import {
  AppProcess,
  createTestDatabase,
  ENTRY_POINTS,
  freePort,
  queryDatabase,
  randomEncryptionKey,
  RunningApi,
  startApi,
  startAppProcess,
  TEST_API_KEY,
  testConfig,
  TestDatabase,
  waitForHttpOk,
} from '@app/testing';

/** One Graph subscription as the listener would have stored it, with the clientState we gave Graph. */
interface Subscription {
  id: string;
  clientState: string;
  mailboxId: string;
  folderId: string;
}

const METRIC = 'mail_listener_graph_notifications_total';

/**
 * The Graph webhook receiver in the real API app (in-process) on real Postgres and Redis, plus the built
 * API as processes for what needs one: an unreachable Redis, and log output to search for secrets.
 */
describe('Graph webhook receiver (real API, Postgres, Redis)', () => {
  let db: TestDatabase;
  let config: AppConfig;
  let api: RunningApi;
  let redis: Redis;
  let queue: Queue<GraphNotificationJob>;
  let mailboxId: string;
  let inbox: string;
  let archive: string;
  let subA: Subscription;
  let subB: Subscription;
  const secrets: string[] = [];

  const newClientState = () => {
    const state = `cs-${randomBytes(24).toString('base64url')}`;
    secrets.push(state);
    return state;
  };

  async function insertSubscription(folderId: string, id = randomUUID(), clientState = newClientState()): Promise<Subscription> {
    await queryDatabase(
      db.url,
      `INSERT INTO graph_subscriptions (subscription_id, folder_id, mailbox_id, client_state_hash, resource, expires_at)
       VALUES ($1, $2, $3, $4, $5, now() + interval '3 days')`,
      [id, folderId, mailboxId, hashClientState(clientState), `me/mailFolders('${folderId}')/messages`],
    );
    return { id, clientState, mailboxId, folderId };
  }

  /** A change notification as Graph sends it (basic notification, message created). */
  const change = (sub: Pick<Subscription, 'id' | 'clientState'>, messageId = `AAMk${randomBytes(8).toString('hex')}`) => ({
    subscriptionId: sub.id,
    subscriptionExpirationDateTime: new Date(Date.now() + 3 * 86_400_000).toISOString(),
    changeType: 'created',
    resource: `Users/${mailboxId}/Messages/${messageId}`,
    resourceData: { '@odata.type': '#Microsoft.Graph.Message', '@odata.id': `Users/${mailboxId}/Messages/${messageId}`, id: messageId },
    clientState: sub.clientState,
    tenantId: '00000000-0000-4000-8000-000000000001',
  });
  const lifecycle = (sub: Pick<Subscription, 'id' | 'clientState'>, lifecycleEvent: string) => ({
    subscriptionId: sub.id,
    subscriptionExpirationDateTime: new Date(Date.now() + 3600_000).toISOString(),
    lifecycleEvent,
    clientState: sub.clientState,
    tenantId: '00000000-0000-4000-8000-000000000001',
  });

  const post = (path: 'notifications' | 'lifecycle', body: unknown) => api.http.post(`/v1/graph/${path}`).send(body as object);

  async function jobs(): Promise<Job<GraphNotificationJob>[]> {
    return queue.getJobs(['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed']);
  }

  async function counters(): Promise<Record<string, number>> {
    const text = (await api.http.get('/metrics').expect(200)).text;
    const values: Record<string, number> = {};
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${METRIC}{`)) continue;
      const result = /result="([^"]+)"/.exec(line)?.[1];
      if (result) values[result] = Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return values;
  }

  /** Runs `act` and returns how much each counter moved (only the ones that did). */
  async function counted(act: () => Promise<unknown>): Promise<Record<string, number>> {
    const before = await counters();
    await act();
    const after = await counters();
    return Object.fromEntries(Object.entries(after).filter(([key, value]) => value !== (before[key] ?? 0)).map(([key, value]) => [key, value - (before[key] ?? 0)]));
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    config = testConfig(db.url);
    api = await startApi(config);
    redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
    queue = new Queue(GRAPH_NOTIFICATIONS_QUEUE, { connection: redis, prefix: config.queuePrefix });

    await api.http
      .post('/v1/providers')
      .set(api.auth)
      .send({ name: 'M365 Graph', type: 'microsoft-graph', oauth: { clientId: 'graph-client-id' }, domains: ['graph.contoso.com'] })
      .expect(201);
    mailboxId = (await api.http.post('/v1/mailboxes').set(api.auth).send({ email: 'ana@graph.contoso.com', folders: ['INBOX', 'Archive'] }).expect(201)).body.id;
    const folders = await queryDatabase<{ id: string; path: string }>(db.url, `SELECT id, path FROM mailbox_folders WHERE mailbox_id = $1`, [mailboxId]);
    inbox = folders.find((folder) => folder.path === 'INBOX')!.id;
    archive = folders.find((folder) => folder.path === 'Archive')!.id;
    subA = await insertSubscription(inbox);
    subB = await insertSubscription(archive);
  });

  afterEach(async () => {
    await queue.obliterate({ force: true });
  });

  afterAll(async () => {
    await api?.close();
    if (queue) {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
    await redis?.quit();
    await db?.drop();
  });

  describe('validation handshake', () => {
    it.each(['notifications', 'lifecycle'] as const)('%s: echoes the decoded token as text/plain, once decoded, unescaped', async (path) => {
      for (const token of ['a b+c:d/é', '<b>"x"&amp;</b>', 'Validation: Testing client application reachability for subscription Request-Id: 9d1a5a2e']) {
        const started = Date.now();
        const res = await api.http.post(`/v1/graph/${path}?validationToken=${encodeURIComponent(token)}`).set('Content-Type', 'text/plain; charset=utf-8').send('');
        expect(Date.now() - started).toBeLessThan(1_000);
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(res.text).toBe(token);
      }
      // '+' in a query means a space; '%2B' is a plus: Express decodes once and the echo keeps it.
      const plus = await api.http.post(`/v1/graph/${path}?validationToken=a+b%2Bc%25d`).expect(200);
      expect(plus.text).toBe('a b+c%d');
      expect(await jobs()).toHaveLength(0);
    });

    it('a repeated validationToken is a 400, not an echo of two values', async () => {
      const res = await api.http.post('/v1/graph/notifications?validationToken=a&validationToken=b').expect(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'validationToken: must appear once in the query string' });
    });
  });

  describe('notifications', () => {
    it('a valid batch becomes ONE job with every item, mailbox and folder filled in, answered 202 without a body', async () => {
      const items = [change(subA, 'msg-1'), change(subA, 'msg-2'), change(subB, 'msg-3'), { ...change(subA, 'msg-4'), changeType: 'updated' }];
      let res;
      const delta = await counted(async () => {
        res = await post('notifications', { value: items }).expect(202);
      });
      expect(res!.text).toBe('');
      expect(delta).toEqual({ accepted: 4 });
      const stored = await jobs();
      expect(stored).toHaveLength(1);
      expect(stored[0].name).toBe('notifications');
      expect(stored[0].opts).toMatchObject({ attempts: 5, removeOnComplete: true, removeOnFail: { age: 86_400 } });
      expect(Date.now() - Date.parse(stored[0].data.receivedAt)).toBeLessThan(10_000);
      expect(stored[0].data.items).toEqual([
        { subscriptionId: subA.id, mailboxId, folderId: inbox, kind: 'change', changeType: 'created', messageId: 'msg-1' },
        { subscriptionId: subA.id, mailboxId, folderId: inbox, kind: 'change', changeType: 'created', messageId: 'msg-2' },
        { subscriptionId: subB.id, mailboxId, folderId: archive, kind: 'change', changeType: 'created', messageId: 'msg-3' },
        { subscriptionId: subA.id, mailboxId, folderId: inbox, kind: 'change', changeType: 'updated', messageId: 'msg-4' },
      ]);
      expect(JSON.stringify(stored[0].data)).not.toContain(subA.clientState);
    });

    it('forged, missing clientState and unknown subscriptions: 202, nothing enqueued, counted', async () => {
      const wrong = { ...change(subA), clientState: `${subA.clientState}x` };
      const missing = change(subA);
      delete (missing as Partial<typeof missing>).clientState;
      const otherSubscriptionsState = { ...change(subA), clientState: subB.clientState };
      const unknown = change({ id: randomUUID(), clientState: subA.clientState });
      const delta = await counted(async () => {
        for (const item of [wrong, missing, otherSubscriptionsState, unknown]) {
          const res = await post('notifications', { value: [item] }).expect(202);
          expect(res.text).toBe('');
        }
      });
      expect(delta).toEqual({ forged: 3, unknown_subscription: 1 });
      expect(await jobs()).toHaveLength(0);
    });

    it('a mixed batch: only the good items are enqueued', async () => {
      const delta = await counted(() =>
        post('notifications', {
          value: [change(subA, 'good-1'), { ...change(subB), clientState: 'guess' }, change({ id: randomUUID(), clientState: 'x' }), change(subB, 'good-2')],
        }).expect(202),
      );
      expect(delta).toEqual({ accepted: 2, forged: 1, unknown_subscription: 1 });
      const stored = await jobs();
      expect(stored).toHaveLength(1);
      expect(stored[0].data.items.map((item) => [item.subscriptionId, item.messageId])).toEqual([
        [subA.id, 'good-1'],
        [subB.id, 'good-2'],
      ]);
    });

    it('lifecycle notifications are enqueued with their event, on the lifecycle URL and on the change URL', async () => {
      const delta = await counted(async () => {
        await post('lifecycle', {
          value: [lifecycle(subA, 'reauthorizationRequired'), lifecycle(subB, 'subscriptionRemoved'), lifecycle(subA, 'missed'), lifecycle(subA, 'somethingNew'), change(subA)],
        }).expect(202);
        await post('notifications', { value: [lifecycle(subB, 'missed'), { ...lifecycle(subB, 'missed'), clientState: 'forged' }] }).expect(202);
      });
      // The unknown event and the change sent to the lifecycle URL are both invalid there.
      expect(delta).toEqual({ lifecycle_reauthorizationRequired: 1, lifecycle_subscriptionRemoved: 1, lifecycle_missed: 2, invalid: 2, forged: 1 });
      const stored = (await jobs()).sort((a, b) => Number(a.id) - Number(b.id));
      expect(stored.map((job) => job.data.items)).toEqual([
        [
          { subscriptionId: subA.id, mailboxId, folderId: inbox, kind: 'lifecycle', lifecycleEvent: 'reauthorizationRequired' },
          { subscriptionId: subB.id, mailboxId, folderId: archive, kind: 'lifecycle', lifecycleEvent: 'subscriptionRemoved' },
          { subscriptionId: subA.id, mailboxId, folderId: inbox, kind: 'lifecycle', lifecycleEvent: 'missed' },
        ],
        [{ subscriptionId: subB.id, mailboxId, folderId: archive, kind: 'lifecycle', lifecycleEvent: 'missed' }],
      ]);
    });

    it('a subscription inserted right after a miss for it is found by the very next notification', async () => {
      const id = randomUUID();
      const clientState = newClientState();
      expect(await counted(() => post('notifications', { value: [change({ id, clientState })] }).expect(202))).toEqual({ unknown_subscription: 1 });
      expect(await jobs()).toHaveLength(0);
      const sub = await insertSubscription(inbox, id, clientState);
      expect(await counted(() => post('notifications', { value: [change(sub, 'first')] }).expect(202))).toEqual({ accepted: 1 });
      expect((await jobs()).map((job) => job.data.items[0].messageId)).toEqual(['first']);
    });

    it('many concurrent POSTs for subscriptions not cached yet: each item enqueued once, in one job per POST', async () => {
      const fresh = await Promise.all(Array.from({ length: 5 }, () => insertSubscription(archive)));
      const posts = Array.from({ length: 40 }, (_, i) => ({ value: fresh.map((sub) => change(sub, `c${i}-${sub.id}`)) }));
      const delta = await counted(() => Promise.all(posts.map((body) => post('notifications', body).expect(202))));
      expect(delta).toEqual({ accepted: 200 });
      const stored = await jobs();
      expect(stored).toHaveLength(40);
      expect(stored.every((job) => job.data.items.length === 5)).toBe(true);
      expect(new Set(stored.flatMap((job) => job.data.items.map((item) => item.messageId))).size).toBe(200);
    });

    it('needs no API key, and an empty collection is simply accepted', async () => {
      await api.http.post('/v1/graph/notifications').set('Authorization', 'Bearer wrong-key-0123456789').send({ value: [] }).expect(202);
      expect(await jobs()).toHaveLength(0);
    });
  });

  describe('bad requests', () => {
    const cases: [string, () => ReturnType<RunningApi['http']['post']>, RegExp][] = [
      ['malformed JSON', () => api.http.post('/v1/graph/notifications').set('Content-Type', 'application/json').send('{"value": [{"subscriptionId": '), /^Malformed JSON body/],
      ['JSON sent as text/plain, malformed', () => api.http.post('/v1/graph/notifications').set('Content-Type', 'text/plain').send('not json'), /^Malformed JSON body/],
      ['an empty body', () => api.http.post('/v1/graph/notifications'), /^value: must be an array of notifications$/],
      ['a JSON string', () => api.http.post('/v1/graph/notifications').set('Content-Type', 'application/json').send('"value"'), /^Malformed JSON body/],
      ['an array instead of the collection', () => post('notifications', [change({ id: 'x', clientState: 'y' })]), /^Request body must be a JSON object/],
      ['no value', () => post('notifications', { values: [] }), /^value: must be an array of notifications$/],
      ['value is an object', () => post('lifecycle', { value: { subscriptionId: 'x' } }), /^value: must be an array of notifications$/],
      ['a value that is a string', () => post('notifications', { value: 'oops' }), /^value: must be an array of notifications$/],
    ];
    it.each(cases)('%s → 400 naming the problem, counted as invalid, nothing enqueued', async (_name, send, message) => {
      let res: { status: number; body: unknown } | undefined;
      const delta = await counted(async () => {
        res = await send();
      });
      expect(res!.status).toBe(400);
      expect(res!.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(message) });
      // Parse errors happen before the receiver sees the request: only its own 400s are counted.
      if (!/Malformed JSON/.test(message.source)) expect(Object.keys(delta)).toEqual(['invalid']);
      expect(await jobs()).toHaveLength(0);
    });

    it('has its own body limit: 300 kB (over the general 256 kB) is fine, over 1 MiB is a 413', async () => {
      const padding = 'x'.repeat(1_000);
      const medium = { value: Array.from({ length: 300 }, (_, i) => ({ ...change(subA, `m${i}`), padding })) };
      expect(JSON.stringify(medium).length).toBeGreaterThan(300_000);
      await post('notifications', medium).expect(202);
      expect((await jobs())[0].data.items).toHaveLength(300);

      const large = { value: Array.from({ length: 1_100 }, (_, i) => ({ ...change(subA, `l${i}`), padding })) };
      const res = await post('notifications', large).expect(413);
      expect(res.body).toEqual({ statusCode: 413, error: 'Payload Too Large', message: 'Request body is larger than the limit of 1048576 bytes' });
      // Other routes keep the general limit.
      await api.http.post('/v1/providers').set(api.auth).send({ name: 'x'.repeat(300_000) }).expect(413);
    });
  });

  describe('bad items: dropped one by one and counted as invalid, before any lookup; never a 503', () => {
    /** The ids of every graph_subscriptions lookup `act` sends to Postgres. */
    async function lookups(act: () => Promise<unknown>): Promise<string[][]> {
      const source = api.app.get(DataSource);
      const seen: string[][] = [];
      const query = source.query;
      source.query = ((sql: string, parameters?: unknown[], ...rest: unknown[]) => {
        if (sql.includes('graph_subscriptions')) seen.push((parameters?.[0] as string[]) ?? []);
        return query.call(source, sql, parameters, ...(rest as []));
      }) as DataSource['query'];
      try {
        await act();
      } finally {
        source.query = query;
      }
      return seen;
    }

    it('a subscriptionId with a NUL byte is an invalid item, not a failed lookup (Graph would retry a 503 for 4 hours)', async () => {
      let res: { status: number; text: string } | undefined;
      const delta = await counted(async () => {
        res = await post('notifications', { value: [change({ id: `${subA.id}\u0000`, clientState: subA.clientState }), change(subA, 'beside-the-nul')] });
      });
      expect(res!.status).toBe(202);
      expect(res!.text).toBe('');
      expect(delta).toEqual({ invalid: 1, accepted: 1 });
      expect((await jobs()).flatMap((job) => job.data.items.map((item) => item.messageId))).toEqual(['beside-the-nul']);
    });

    it('items that are not well-formed are dropped without a lookup; the good items of the same POST are enqueued', async () => {
      const bad = [
        { ...change(subA), subscriptionId: 'not-a-guid' },
        { ...change(subA), subscriptionId: `${subA.id}x` },
        { ...change(subA), subscriptionId: '' },
        { ...change(subA), subscriptionId: 42 },
        { ...change(subA), subscriptionId: [subA.id] },
        { ...change(subA), subscriptionId: null },
        { ...change(subA), clientState: { a: 1 } },
        { ...change(subA), clientState: `${subA.clientState}\u0000` },
        { ...change(subA), changeType: 7 },
        { ...change(subA), resourceData: [] },
        { ...change(subA), resourceData: { id: 'AAMk\ud800' } },
        'oops',
        null,
        [change(subA)],
      ];
      let ids: string[][] = [];
      const delta = await counted(async () => {
        ids = await lookups(() => post('notifications', { value: [...bad, change(subA, 'good-among-bad')] }).expect(202));
      });
      expect(delta).toEqual({ invalid: bad.length, accepted: 1 });
      expect(ids.flat()).not.toContain('not-a-guid');
      expect(ids.flat().every((id) => id === subA.id)).toBe(true);
      expect((await jobs()).flatMap((job) => job.data.items.map((item) => item.messageId))).toEqual(['good-among-bad']);
      // Nothing but bad items: no query at all.
      expect(await lookups(() => post('lifecycle', { value: bad }).expect(202))).toEqual([]);
    });

    it(`one POST is looked up for at most ${MAX_NOTIFICATIONS_PER_POST} items (more than Graph batches); the rest are invalid`, async () => {
      // The probe: ~1 MiB of 13,000 random subscription ids.
      const value = [change(subA, 'first-of-many'), ...Array.from({ length: 12_999 }, () => ({ subscriptionId: randomUUID(), clientState: 'x' }))];
      expect(JSON.stringify({ value }).length).toBeGreaterThan(800_000);
      let ids: string[][] = [];
      const delta = await counted(async () => {
        ids = await lookups(() => post('notifications', { value }).expect(202));
      });
      expect(ids).toHaveLength(1);
      expect(ids[0].length).toBeLessThanOrEqual(MAX_NOTIFICATIONS_PER_POST);
      expect(delta).toEqual({ accepted: 1, unknown_subscription: MAX_NOTIFICATIONS_PER_POST - 1, invalid: 13_000 - MAX_NOTIFICATIONS_PER_POST });
      expect((await jobs()).flatMap((job) => job.data.items.map((item) => item.messageId))).toEqual(['first-of-many']);
    });

    it.each([
      ['gzip', 'not gzip at all'],
      ['deflate', '{"value": []}'],
      ['gzip', ''],
    ])('Content-Encoding: %s with a body that is not encoded so is a 400 with the standard error body', async (encoding, body) => {
      const res = await api.http.post('/v1/graph/notifications').set('Content-Type', 'application/json').set('Content-Encoding', encoding).send(body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.stringContaining('Content-Encoding') });
      if (body) expect(res.body.message).not.toContain(body);
    });

    it('a real gzip body is still read', async () => {
      const { gzipSync } = await import('node:zlib');
      const body = gzipSync(JSON.stringify({ value: [change(subA, 'gzipped')] }));
      // fetch, not supertest: superagent would serialize a Buffer as JSON.
      const res = await fetch(`${api.url}/v1/graph/notifications`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, body });
      expect(res.status).toBe(202);
      expect((await jobs()).flatMap((job) => job.data.items.map((item) => item.messageId))).toEqual(['gzipped']);
    });
  });

  it('is documented in OpenAPI as public endpoints', async () => {
    const doc = (await api.http.get('/docs/openapi.json').expect(200)).body;
    for (const path of ['/v1/graph/notifications', '/v1/graph/lifecycle']) {
      const operation = doc.paths[path].post;
      expect(operation.security).toBeUndefined();
      expect(Object.keys(operation.responses).sort()).toEqual(['200', '202', '400', '413', '503']);
      expect(operation.responses['200'].content['text/plain']).toBeDefined();
      expect(operation.parameters).toEqual([expect.objectContaining({ name: 'validationToken', in: 'query', required: false })]);
    }
    expect(Object.keys(doc.components.schemas.GraphNotificationDoc.properties)).toEqual(
      expect.arrayContaining(['subscriptionId', 'clientState', 'changeType', 'resourceData', 'lifecycleEvent']),
    );
  });

  it('/metrics still passes promtool with the Graph counter', async () => {
    const text = (await api.http.get('/metrics').expect(200)).text;
    expect(text).toMatch(/^# TYPE mail_listener_graph_notifications_total counter$/m);
    for (const result of ['accepted', 'forged', 'unknown_subscription', 'invalid', 'enqueue_failed', 'lifecycle_reauthorizationRequired', 'lifecycle_subscriptionRemoved', 'lifecycle_missed']) {
      expect(text).toMatch(new RegExp(`^mail_listener_graph_notifications_total\\{[^}]*result="${result}"[^}]*\\} \\d+$`, 'm'));
    }
    const { execFileSync } = await import('node:child_process');
    expect(execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' }).trim()).toBe('');
  });

  describe('the built API as a process, logging at trace level', () => {
    const processes: AppProcess[] = [];

    async function startApiProcess(redisUrl: string): Promise<string> {
      const port = await freePort();
      const app = startAppProcess(ENTRY_POINTS.api, {
        NODE_ENV: 'test',
        LOG_LEVEL: 'trace',
        DATABASE_URL: db.url,
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: config.queuePrefix,
        API_KEYS: TEST_API_KEY,
        ENCRYPTION_KEY: randomEncryptionKey(),
        DATA_DIR: mkdtempSync(join(tmpdir(), 'ml-graph-proc-')),
        API_HOST: '127.0.0.1',
        API_PORT: String(port),
      });
      processes.push(app);
      const base = `http://127.0.0.1:${port}`;
      await waitForHttpOk(`${base}/health/live`, app);
      return base;
    }

    const send = (base: string, path: string, body: unknown) =>
      fetch(`${base}/v1/graph/${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

    afterAll(async () => {
      await Promise.all(processes.map((app) => app.stop()));
    });

    it('Redis unreachable: accepted items are answered 503 in time (Graph retries), dropped ones still 202; no clientState in the logs', async () => {
      const closedPort = await freePort();
      const base = await startApiProcess(`redis://127.0.0.1:${closedPort}`);
      const started = Date.now();
      const res = await send(base, 'notifications', { value: [change(subA, 'during-outage'), change(subB)] });
      expect(res.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(await res.json()).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'Notifications could not be stored; deliver them again later' });
      expect((await send(base, 'lifecycle', { value: [lifecycle(subA, 'missed')] })).status).toBe(503);
      // Nothing to store: no need for Redis.
      expect((await send(base, 'notifications', { value: [{ ...change(subA), clientState: subB.clientState }] })).status).toBe(202);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^mail_listener_graph_notifications_total\{[^}]*result="enqueue_failed"[^}]*\} 3$/m);
      expect(metrics).toMatch(/^mail_listener_graph_notifications_total\{[^}]*result="forged"[^}]*\} 1$/m);
      expect(metrics).toMatch(/^mail_listener_graph_notifications_total\{[^}]*result="accepted"[^}]*\} 0$/m);

      const app = processes.at(-1)!;
      await app.waitForOutput(/not enqueued, answering 503/);
      const output = await app.waitForOutput(/missing or wrong clientState/);
      for (const secret of secrets) expect(output).not.toContain(secret);
    });

    it('Redis up: accepted, forged, lifecycle and handshake requests leave no clientState or token in the logs', async () => {
      const base = await startApiProcess(config.redisUrl);
      const token = `token-${randomBytes(12).toString('hex')}`;
      const handshake = await fetch(`${base}/v1/graph/lifecycle?validationToken=${token}`, { method: 'POST', headers: { 'Content-Type': 'text/plain' } });
      expect(await handshake.text()).toBe(token);
      expect((await send(base, 'notifications', { value: [change(subA, 'logged'), { ...change(subB), clientState: `${subA.clientState}-guess` }] })).status).toBe(202);
      expect((await send(base, 'lifecycle', { value: [lifecycle(subB, 'reauthorizationRequired'), lifecycle(subB, 'bogus')] })).status).toBe(202);
      expect((await send(base, 'notifications', { value: [{ subscriptionId: subA.id, clientState: 5 }, { subscriptionId: 'x', clientState: subB.clientState }] })).status).toBe(202);
      expect((await send(base, 'notifications', { value: 'x' })).status).toBe(400);
      const stored = await jobs();
      expect(stored.flatMap((job) => job.data.items.map((item) => item.messageId ?? item.lifecycleEvent)).sort()).toEqual(['logged', 'reauthorizationRequired']);

      const app = processes.at(-1)!;
      await app.waitForOutput(/"path":"\/v1\/graph\/notifications"/);
      await app.waitForOutput(/Dropped 2 malformed Graph notification\(s\): value\[0\]\.clientState: must be a string; value\[1\]\.subscriptionId: must be a Graph subscription id/);
      const output = await app.waitForOutput(/missing or wrong clientState/);
      expect(output).not.toContain(token);
      for (const secret of secrets) expect(output).not.toContain(secret);
    });
  });
});
