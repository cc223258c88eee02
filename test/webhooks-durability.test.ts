import { FlowProducer, Job, Queue, QueueEvents } from 'bullmq';
import Redis from 'ioredis';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { MAIL_EVENTS_QUEUE, MailEvent, MailEventsPublisher, WEBHOOK_FANOUT_QUEUE } from '@app/events';
import {
  AppProcess,
  appProcessEnv,
  buildMessage,
  ENTRY_POINTS,
  freePort,
  ListenerWorld,
  queryDatabase,
  RedisServer,
  sampleMailReceived,
  startAppProcess,
  TEST_API_KEY,
  waitForHttpOk,
  WebhookReceiver,
  WebhooksWorld,
} from '@app/testing';

const FAST_RETRIES = { WEBHOOK_RETRY_BASE_MS: '50', WEBHOOK_RETRY_MAX_MS: '300' };

async function jobIds(redisUrl: string, prefix: string, queueName: string): Promise<Set<string>> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection, prefix });
  try {
    const jobs: Job[] = await queue.getJobs(['waiting', 'active', 'completed', 'delayed', 'failed', 'prioritized']);
    return new Set(jobs.map((job) => job.id!));
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/**
 * The events on the webhook door: fan-out jobs still kept (waiting, active, failed) and the deduplication
 * keys that stand for the done ones (a fan-out job is dropped once done, its id kept as
 * `<prefix>:webhook-fanout:de:<event id>`, written by the same add).
 */
async function fanoutIds(redisUrl: string, prefix: string): Promise<Set<string>> {
  const ids = await jobIds(redisUrl, prefix, WEBHOOK_FANOUT_QUEUE);
  const redis = new Redis(redisUrl);
  try {
    const dedupPrefix = `${prefix}:${WEBHOOK_FANOUT_QUEUE}:de:`;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${dedupPrefix}*`, 'COUNT', 1000);
      for (const key of keys) ids.add(key.slice(dedupPrefix.length));
      cursor = next;
    } while (cursor !== '0');
    return ids;
  } finally {
    redis.disconnect();
  }
}

describe('webhooks: a real mail.received from the listener (Dovecot), delivered signed; a re-publish stays one delivery', () => {
  const world = new ListenerWorld();
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    await world.start({ env: FAST_RETRIES });
    receiver = await WebhookReceiver.start();
  }, 60_000);
  afterAll(async () => {
    await receiver?.close();
    await world.stop();
  });

  it('delivers the same event the listener put on mail-events, signed, and a second publish of its id is dropped on both doors', async () => {
    const endpoint = (await world.api.http.post('/v1/webhooks').set(world.api.auth).send({ url: receiver.url, events: ['mail.received'] }).expect(201)).body;
    const mailbox = await world.mailbox('hooks@contoso.com');
    await world.waitForState(mailbox.id, 'connected');
    await world.dovecot.deliver(mailbox.email, buildMessage({ subject: 'Order 42' }));
    const [job] = await world.waitForReceived(mailbox.id, 1);
    await receiver.until((got) => got.some((r) => r.id === job.id), 20_000, 'the mail.received webhook');
    const [delivered] = receiver.of(job.id!);
    const payload = WebhookReceiver.verify(delivered, endpoint.secret);
    expect(payload).toEqual(job.data);
    expect(payload).toMatchObject({ type: 'mail.received', mailbox: { id: mailbox.id }, message: { subject: 'Order 42' } });

    // The same event published again (a takeover, a replay): dropped by both queues, delivered once. Once
    // the fan-out job is done only its deduplication key is left, so that door says `deduplicated`.
    await world.waitFor(() => jobIds(world.config.redisUrl, world.config.queuePrefix, WEBHOOK_FANOUT_QUEUE), (ids) => !ids.has(job.id!), 10_000, 'the fan-out job dropped once done');
    const eventsConnection = new Redis(world.config.redisUrl, { maxRetriesPerRequest: null });
    const fanoutEvents = new QueueEvents(WEBHOOK_FANOUT_QUEUE, {
      connection: eventsConnection,
      prefix: world.config.queuePrefix,
      lastEventId: '0-0',
    });
    const fanoutDuplicated: string[] = [];
    fanoutEvents.on('deduplicated', ({ jobId }) => fanoutDuplicated.push(jobId));
    await fanoutEvents.waitUntilReady();
    await world.api.app.get(MailEventsPublisher, { strict: false }).publish(job.data as MailEvent);
    await world.watch.settle();
    expect(world.watch.duplicated).toContain(job.id);
    await world.waitFor(async () => fanoutDuplicated, (ids) => ids.includes(job.id!), 10_000, 'deduplicated on webhook-fanout');
    await fanoutEvents.close();
    eventsConnection.disconnect();
    const test = await world.api.http.post(`/v1/webhooks/${endpoint.id}/test`).set(world.api.auth).expect(202);
    await receiver.until((got) => got.some((r) => r.id === test.body.eventId), 10_000, 'a later test event');
    expect(receiver.of(job.id!)).toHaveLength(1);
  }, 60_000);

  it('a fan-out that fails (the endpoints cannot be read) is tried again, and the event is delivered once they can', async () => {
    await world.api.http.post('/v1/webhooks').set(world.api.auth).send({ url: receiver.url, events: ['mail.received'] }).expect(201);
    // This suite's own database: the fan-out's endpoint read fails while the table is away.
    await queryDatabase(world.db.url, 'ALTER TABLE webhook_endpoints RENAME TO webhook_endpoints_away');
    const event = sampleMailReceived({ subject: 'fan-out retried' });
    const fanout = new Queue(WEBHOOK_FANOUT_QUEUE, { connection: new Redis(world.config.redisUrl, { maxRetriesPerRequest: null }), prefix: world.config.queuePrefix });
    try {
      await world.api.app.get(MailEventsPublisher, { strict: false }).publish(event);
      await world.waitFor(async () => (await fanout.getJob(event.id))?.attemptsMade ?? 0, (n) => n >= 1, 15_000, 'the fan-out failed once');
      // Not failed for good: waiting for its next attempt (or already in it).
      expect(['delayed', 'waiting', 'active']).toContain(await fanout.getJobState(event.id));
    } finally {
      await queryDatabase(world.db.url, 'ALTER TABLE webhook_endpoints_away RENAME TO webhook_endpoints');
    }
    await receiver.until((got) => got.some((r) => r.id === event.id), 20_000, 'the event delivered after the retried fan-out');
    expect(receiver.of(event.id)).toHaveLength(1);
    const connection = (fanout.opts.connection as Redis);
    await fanout.close();
    connection.disconnect();
  }, 60_000);
});

describe('webhooks: the API and the delivering listener killed with SIGKILL while deliveries are pending', () => {
  const world = new WebhooksWorld();
  let receiver: WebhookReceiver;
  let api: AppProcess | undefined;
  let listener: AppProcess | undefined;

  beforeAll(async () => {
    // The in-process apps here do not deliver; the processes under test do.
    await world.start({ env: { WEBHOOK_DELIVERY: 'off' } });
    receiver = await WebhookReceiver.start();
  }, 60_000);
  afterAll(async () => {
    await api?.stop('SIGKILL');
    await listener?.stop('SIGKILL');
    await receiver?.close();
    await world.stop();
  });

  async function startProcesses(apiPort: number, listenerPort: number): Promise<void> {
    const env = { ...appProcessEnv(world.config, listenerPort), ...FAST_RETRIES };
    api = startAppProcess(ENTRY_POINTS.api, { ...env, API_PORT: String(apiPort) });
    listener = startAppProcess(ENTRY_POINTS.listener, env);
    await waitForHttpOk(`http://127.0.0.1:${apiPort}/health/ready`, api);
    await waitForHttpOk(`http://127.0.0.1:${listenerPort}/health/ready`, listener);
  }

  it('delivers every event after both restart: the ones in flight (locked), waiting for a retry, and not fanned out yet', async () => {
    const [apiPort, listenerPort] = [await freePort(), await freePort()];
    await startProcesses(apiPort, listenerPort);
    const http = request(`http://127.0.0.1:${apiPort}`);
    await http.post('/v1/webhooks').set({ Authorization: `Bearer ${TEST_API_KEY}` }).send({ url: receiver.url, events: ['*'] }).expect(201);
    // Half the calls hang (in flight when the processes die), the others fail: every delivery is pending.
    receiver.answerWith((_r, n) => (n % 2 === 0 ? { hang: true } : { status: 503 }));
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // the listener's reconcile picks the endpoint up
    const events = Array.from({ length: 100 }, () => sampleMailReceived());
    await world.publish(...events);
    await receiver.until((got) => got.length >= 40, 20_000, 'attempts under way');
    listener!.child.kill('SIGKILL');
    api!.child.kill('SIGKILL');
    expect(await listener!.exited).toBe(137);
    expect(await api!.exited).toBe(137);
    const more = sampleMailReceived();
    await world.publish(more); // published while nothing delivers: waits on webhook-fanout

    receiver.answerWith(() => ({ status: 200 }));
    await startProcesses(apiPort, listenerPort);
    const expected = [...events, more].map((event) => event.id);
    // Locked jobs of the dead process come back once their lock expires (15 s) and the stall check runs.
    await world.waitFor(async () => receiver.deliveredIds(), (ids) => expected.every((id) => ids.has(id)), 60_000, 'every event delivered after the restart');
  }, 120_000);
});

describe('webhooks: a private Redis (append-only, fsync always) killed and restarted', () => {
  const world = new WebhooksWorld();
  let redis: RedisServer;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    redis = await RedisServer.start({ appendOnlyDir: mkdtempSync(join(tmpdir(), 'hooks-redis-')) });
    await world.start({ env: { REDIS_URL: redis.url } });
    receiver = await WebhookReceiver.start();
  }, 60_000);
  afterAll(async () => {
    await redis?.resume();
    await receiver?.close();
    await world.stop();
    await redis?.stop();
  });

  it('loses no delivery, and every event is on both doors or on neither, also for publishes cut by the kill', async () => {
    await world.register(receiver.url);
    receiver.answerWith(() => ({ status: 503 }));
    const before = Array.from({ length: 50 }, () => sampleMailReceived());
    await world.publish(...before);
    await receiver.until((got) => before.every((e) => got.some((r) => r.id === e.id)), 20_000, 'a first attempt of each');

    // Publishes racing the kill: each batch lands on both queues or on neither.
    const racing: string[] = [];
    const publisher = world.api.app.get(MailEventsPublisher, { strict: false });
    const publishing = (async () => {
      for (let batch = 0; batch < 40; batch++) {
        const events = Array.from({ length: 25 }, () => sampleMailReceived());
        racing.push(...events.map((e) => e.id));
        await Promise.race([publisher.publishMany(events).catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 300))]);
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 150));
    await redis.stop();
    await publishing;
    await redis.resume();

    receiver.answerWith(() => ({ status: 200 }));
    await world.waitFor(async () => receiver.deliveredIds(), (ids) => before.every((e) => ids.has(e.id)), 60_000, 'every earlier event delivered after the restart');
    // Let the offline queue flush and the fan-out finish, then compare the two doors.
    await world.waitFor(() => fanoutIds(redis.url, world.config.queuePrefix), (ids) => ids.size >= before.length, 20_000, 'fan-out jobs');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const onQueue = await jobIds(redis.url, world.config.queuePrefix, MAIL_EVENTS_QUEUE);
    const onFanout = await fanoutIds(redis.url, world.config.queuePrefix);
    const mismatched = racing.filter((id) => onQueue.has(id) !== onFanout.has(id));
    expect(mismatched).toEqual([]);
    for (const event of before) expect([onQueue.has(event.id), onFanout.has(event.id)]).toEqual([true, true]);
    const racedIn = racing.filter((id) => onQueue.has(id));
    // What reached both doors is delivered too.
    await world.waitFor(async () => receiver.deliveredIds(), (ids) => racedIn.every((id) => ids.has(id)), 60_000, 'the raced events that were published, delivered');
  }, 150_000);

  it('adds an event to both queues in one transaction: when the webhook-fanout half is refused, mail-events gets nothing either', async () => {
    // A Redis user that may write mail-events keys but not webhook-fanout ones: Redis refuses the fan-out
    // commands when they are queued, so EXEC aborts the whole MULTI. Two separate adds would leave the
    // event on mail-events alone.
    const prefix = world.config.queuePrefix;
    await redis.command('ACL', 'SETUSER', 'halfdoor', 'on', '>halfdoor-pw', '+@all', `~${prefix}:${MAIL_EVENTS_QUEUE}*`);
    const restricted = new Redis(redis.url, { username: 'halfdoor', password: 'halfdoor-pw', maxRetriesPerRequest: null });
    const flows = new FlowProducer({ connection: restricted, prefix });
    const publisher = new MailEventsPublisher(flows, world.config);
    const event = sampleMailReceived();
    await expect(publisher.publishMany([event])).rejects.toThrow(/EXECABORT|NOPERM|permission/i);
    expect((await jobIds(redis.url, prefix, MAIL_EVENTS_QUEUE)).has(event.id)).toBe(false);
    expect((await fanoutIds(redis.url, prefix)).has(event.id)).toBe(false);
    await flows.close();
    restricted.disconnect();
  });
});

describe('webhooks under `npm start` (the supervisor runs the API and the listener, embedded database)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ml-hooks-embedded-'));
  const queuePrefix = `test-${randomBytes(6).toString('hex')}`;
  let supervisor: AppProcess | undefined;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await supervisor?.stop();
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${queuePrefix}:*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  });

  it('delivers a test event registered through the API, signed', async () => {
    const env = {
      DATA_DIR: dataDir,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: queuePrefix,
      API_HOST: '127.0.0.1',
      API_PORT: String(await freePort()),
      LISTENER_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
    };
    supervisor = startAppProcess(ENTRY_POINTS.supervisor, env);
    await waitForHttpOk(`http://127.0.0.1:${env.API_PORT}/health/ready`, supervisor, 90_000);
    await waitForHttpOk(`http://127.0.0.1:${env.LISTENER_PORT}/health/ready`, supervisor, 90_000);
    const key = readFileSync(join(dataDir, 'dev-api-key'), 'utf8').trim();
    const http = request(`http://127.0.0.1:${env.API_PORT}`);
    const endpoint = (await http.post('/v1/webhooks').set({ Authorization: `Bearer ${key}` }).send({ url: receiver.url, events: ['*'] }).expect(201)).body;
    const test = await http.post(`/v1/webhooks/${endpoint.id}/test`).set({ Authorization: `Bearer ${key}` }).expect(202);
    await receiver.until((got) => got.some((r) => r.id === test.body.eventId), 20_000, 'the test event');
    expect(WebhookReceiver.verify(receiver.of(test.body.eventId)[0], endpoint.secret)).toMatchObject({ type: 'webhook.test' });
    expect(await supervisor.stop()).toBe(0);
    supervisor = undefined;
  }, 120_000);
});
