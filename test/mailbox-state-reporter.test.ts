import { FlowProducer, Queue } from 'bullmq';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { FencedOutError, LeaseFence, MailboxLeaseRepository, ReplicaRegistry } from '@app/cluster';
import { EventOutbox, EventOutboxRelay, EventOutboxRepository, MailboxRef, MailEventsPublisher, WEBHOOK_FANOUT_QUEUE } from '@app/events';
import { mailboxStateChanged, MailboxStatusRepository, MailboxStatusWriter } from '@app/mailbox-state';
import { SETUP_BATCH_INTERVAL_MS } from '@app/batching';
import { dataSourceOptions, runMigrations } from '@app/persistence';
import { MailboxStateReporter } from '@app/sync';
import { createTestDatabase, ManualClock, queryDatabase, statementsOf, TestDatabase, testConfig, TestMailEvents } from '@app/testing';

/**
 * The reporter's single-statement writes against real Postgres: first row, updates, and rows changed
 * under it; each change's `mailbox.state_changed` goes into the outbox with the row and out through the
 * relay to the real Redis. Every write is fenced by the reporting replica's real lease.
 */
describe('MailboxStateReporter', () => {
  let db: TestDatabase;
  let source: DataSource;
  /** The relay's own pool, so its statements are told apart from the reporter's. */
  let relaySource: DataSource;
  let redis: Redis;
  let flows: FlowProducer;
  let publisher: MailEventsPublisher;
  let relay: EventOutboxRelay;
  let config: ReturnType<typeof testConfig>;
  let events: TestMailEvents;
  let reporter: MailboxStateReporter;
  const clock = new ManualClock(Date.parse('2026-11-21T10:00:00Z'));
  let mailbox: { id: string; email: string; externalId: null };
  let leases: MailboxLeaseRepository;
  /** replica-a's lease on `mailbox`. */
  let a: LeaseFence;

  beforeAll(async () => {
    db = await createTestDatabase();
    source = await new DataSource(dataSourceOptions(db.url, 2)).initialize();
    await runMigrations(source);
    config = testConfig(db.url);
    redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
    flows = new FlowProducer({ connection: redis, prefix: config.queuePrefix });
    publisher = new MailEventsPublisher(flows, config);
    events = new TestMailEvents(config);
    relaySource = await new DataSource(dataSourceOptions(db.url, 1)).initialize();
    relay = new EventOutboxRelay(relaySource, new EventOutboxRepository(), publisher, redis);
    const statusRows = new MailboxStatusRepository(source);
    reporter = new MailboxStateReporter(statusRows, new MailboxStatusWriter(statusRows, new EventOutbox(new EventOutboxRepository(), relay)), clock);
    const [provider] = await queryDatabase<{ id: string }>(
      db.url,
      `INSERT INTO providers (name, type, host, port, secure, verify_certificate, load_emails, send_emails, login_format, auth_method)
       VALUES ('p', 'imap', 'imap.test', 993, true, true, true, false, 'email', 'basic') RETURNING id`,
    );
    // Inserted directly, as bulk imports do: no mailbox_status row exists yet.
    const [row] = await queryDatabase<{ id: string }>(db.url, `INSERT INTO mailboxes (email, provider_id, login, enabled) VALUES ('ana@x.test', $1, 'ana', true) RETURNING id`, [provider.id]);
    mailbox = { id: row.id, email: 'ana@x.test', externalId: null };
    const replicas = new ReplicaRegistry(source);
    await replicas.register('replica-a');
    await replicas.register('replica-b');
    leases = new MailboxLeaseRepository(source);
    a = await leaseOf('replica-a', mailbox.id);
  });

  /** `owner` takes the mailbox's lease (from whoever held it, as a takeover or a grant would). */
  async function leaseOf(owner: string, mailboxId: string): Promise<LeaseFence> {
    await leases.acquire([mailboxId], owner, 60_000);
    const [held] = await queryDatabase<{ owner_id: string; epoch: string }>(
      db.url,
      `UPDATE mailbox_leases SET owner_id = $2, epoch = CASE WHEN owner_id = $2 THEN epoch ELSE epoch + 1 END WHERE mailbox_id = $1 RETURNING owner_id, epoch`,
      [mailboxId, owner],
    );
    return { owner: held.owner_id, epoch: Number(held.epoch) };
  }

  afterAll(async () => {
    await relay.onApplicationShutdown();
    await flows.close();
    await events.dropAndClose();
    await redis.quit();
    await source.destroy();
    await relaySource.destroy();
    await db.drop();
  });

  /** What the relay sends while `work` runs: the first word of each statement, and the size of each BullMQ addBulk. */
  async function relayTraffic(work: () => Promise<unknown>): Promise<{ statements: string[]; publishes: number[] }> {
    const statements: string[] = [];
    const publishes: number[] = [];
    const createQueryRunner = relaySource.createQueryRunner;
    const publishMany = publisher.publishMany;
    relaySource.createQueryRunner = (...args) => {
      const runner = createQueryRunner.apply(relaySource, args);
      const query = runner.query;
      runner.query = ((sql: string, ...rest: unknown[]) => (statements.push(sql.trim().split(/\s+/)[0]), query.call(runner, sql, ...(rest as [unknown[]?])))) as typeof runner.query;
      return runner;
    };
    publisher.publishMany = (batch) => (publishes.push(batch.length), publishMany.call(publisher, batch));
    try {
      await work();
    } finally {
      relaySource.createQueryRunner = createQueryRunner;
      publisher.publishMany = publishMany;
    }
    return { statements, publishes };
  }

  const status = async () =>
    (await queryDatabase<Record<string, unknown>>(db.url, `SELECT connection_state, state_version::int AS v, last_error_code, owner_id, auth_failing_since, state_since FROM mailbox_status WHERE mailbox_id = $1`, [mailbox.id]))[0];

  it('creates the row on the first change, then moves it with one versioned update per change', async () => {
    expect(await reporter.apply(mailbox, 'start', null, a)).toBe('connecting');
    expect(await status()).toMatchObject({ connection_state: 'connecting', v: 1, owner_id: 'replica-a', last_error_code: null, auth_failing_since: null });

    clock.advance(1_000);
    expect(await reporter.apply(mailbox, 'auth_rejected', { code: 'AUTH_FAILED', message: 'no' }, a)).toBe('auth_error');
    const failed = await status();
    expect(failed).toMatchObject({ connection_state: 'auth_error', v: 2, last_error_code: 'AUTH_FAILED' });
    expect((failed.auth_failing_since as Date).toISOString()).toBe('2026-11-21T10:00:01.000Z');

    clock.advance(1_000);
    await reporter.apply(mailbox, 'retry', null, a);
    await reporter.apply(mailbox, 'auth_rejected', { code: 'AUTH_FAILED', message: 'no' }, a);
    // The failing run started with the first rejection.
    expect(((await status()).auth_failing_since as Date).toISOString()).toBe('2026-11-21T10:00:01.000Z');

    await reporter.apply(mailbox, 'retry', null, a);
    await reporter.apply(mailbox, 'listening', null, a);
    expect(await status()).toMatchObject({ connection_state: 'connected', v: 6, last_error_code: null, auth_failing_since: null });

    await relay.drain();
    const ids = (await events.jobs()).map((job) => job.id).sort();
    expect(ids).toEqual([1, 2, 3, 4, 5, 6].map((v) => `mailbox.state_changed.${mailbox.id}.${v}`).sort());
  });

  it('an event that does not apply, or changes nothing, writes nothing', async () => {
    expect(await reporter.apply(mailbox, 'listening', null, a)).toBe('connected');
    expect(await reporter.apply(mailbox, 'retry', null, a)).toBe('connected');
    expect((await status()).v).toBe(6);
  });

  it('re-reads a row the API changed underneath (disabled through the API) instead of overwriting it', async () => {
    await queryDatabase(db.url, `UPDATE mailbox_status SET connection_state = 'disabled', owner_id = NULL WHERE mailbox_id = $1`, [mailbox.id]);
    // 'dropped' does not apply to a disabled mailbox: the stale "connected" in memory must not win.
    expect(await reporter.apply(mailbox, 'dropped', { code: 'ECONNRESET', message: 'reset' }, a)).toBe('disabled');
    expect(await status()).toMatchObject({ connection_state: 'disabled', owner_id: null });
    await queryDatabase(db.url, `UPDATE mailbox_status SET connection_state = 'pending', state_version = state_version + 1 WHERE mailbox_id = $1`, [mailbox.id]);
    expect(await reporter.apply(mailbox, 'start', null, await leaseOf('replica-b', mailbox.id))).toBe('connecting');
    expect(await status()).toMatchObject({ connection_state: 'connecting', v: 8, owner_id: 'replica-b' });
  });

  it('writes the changes of one event-loop turn as one statement, re-reading only the rows that moved on', async () => {
    const [provider] = await queryDatabase<{ id: string }>(db.url, `SELECT provider_id AS id FROM mailboxes WHERE id = $1`, [mailbox.id]);
    const rows = await queryDatabase<{ id: string; email: string }>(
      db.url,
      `INSERT INTO mailboxes (email, provider_id, login, enabled) SELECT 'm' || i || '@x.test', $1, 'm' || i, true FROM generate_series(1, 40) i RETURNING id, email`,
      [provider.id],
    );
    const many = rows.map((row) => ({ id: row.id, email: row.email, externalId: null }));
    const fences = new Map<string, LeaseFence>();
    for (const taken of await leases.acquire(many.map((m) => m.id), 'replica-a', 60_000)) fences.set(taken.mailboxId, { owner: 'replica-a', epoch: taken.epoch });
    // Nothing known of them yet: one SELECT finds no rows, and one statement (WITH … INSERT the rows,
    // INSERT their events into the outbox) creates all 40 with their events.
    expect(await statementsOf(source, () => Promise.all(many.map((m) => reporter.apply(m, 'start', null, fences.get(m.id)!))))).toEqual(['SELECT', 'WITH']);
    // The API disables one of them underneath: its stale snapshot must be refused and re-read.
    await queryDatabase(db.url, `UPDATE mailbox_status SET connection_state = 'disabled', owner_id = NULL, state_version = state_version + 1 WHERE mailbox_id = $1`, [many[7].id]);
    await relay.drain();
    let states: string[] = [];
    let statements: string[] = [];
    const relayed = await relayTraffic(async () => {
      statements = await statementsOf(source, async () => (states = await Promise.all(many.map((m) => reporter.apply(m, 'listening', null, fences.get(m.id)!)))));
      await relay.drain();
    });
    // The relay, woken once after that statement: one round (a transaction taking the 39 events with one
    // DELETE, one BullMQ addBulk, commit).
    expect(relayed.publishes).toEqual([39]);
    expect(relayed.statements.slice(0, 3)).toEqual(['START', 'WITH', 'COMMIT']);
    expect(states.filter((state) => state === 'connected')).toHaveLength(39);
    expect(states[7]).toBe('disabled');
    // 40 changes in one turn: one statement updating all (one of them refused) with their events, and one
    // SELECT re-reading that row, where 'listening' no longer applies.
    expect(statements).toEqual(['WITH', 'SELECT']);
    const after = await queryDatabase<{ id: string; connection_state: string; v: number }>(
      db.url,
      `SELECT mailbox_id AS id, connection_state, state_version::int AS v FROM mailbox_status WHERE mailbox_id = ANY($1::uuid[])`,
      [many.map((m) => m.id)],
    );
    const byId = new Map(after.map((row) => [row.id, row]));
    expect(byId.get(many[7].id)).toMatchObject({ connection_state: 'disabled', v: 2 });
    for (const m of many.filter((_, i) => i !== 7)) expect(byId.get(m.id)).toMatchObject({ connection_state: 'connected', v: 2 });
    const ids = new Set((await events.jobs()).map((job) => job.id));
    for (const m of many.filter((_, i) => i !== 7)) expect(ids.has(`mailbox.state_changed.${m.id}.2`)).toBe(true);
    expect(ids.has(`mailbox.state_changed.${many[7].id}.2`)).toBe(false);
  });

  it('refuses the writes of a replica that lost the lease (FencedOutError), in the same statement, and the new owner\'s reports stand', async () => {
    const [provider] = await queryDatabase<{ id: string }>(db.url, `SELECT provider_id AS id FROM mailboxes WHERE id = $1`, [mailbox.id]);
    const [row] = await queryDatabase<{ id: string }>(db.url, `INSERT INTO mailboxes (email, provider_id, login, enabled) VALUES ('zed@x.test', $1, 'zed', true) RETURNING id`, [provider.id]);
    const zed = { id: row.id, email: 'zed@x.test', externalId: null };
    const stale = await leaseOf('replica-a', zed.id);
    // No row yet, and the lease already gone: the first row is not created by the stale replica either.
    const theirs = await leaseOf('replica-b', zed.id);
    await expect(reporter.apply(zed, 'start', null, stale)).rejects.toBeInstanceOf(FencedOutError);
    expect(await queryDatabase(db.url, `SELECT 1 FROM mailbox_status WHERE mailbox_id = $1`, [zed.id])).toEqual([]);

    expect(await reporter.apply(zed, 'start', null, theirs)).toBe('connecting');
    expect(await reporter.apply(zed, 'listening', null, theirs)).toBe('connected');
    // The stale replica still believes the row is what it last read: its write is refused, not re-read and retried.
    await expect(reporter.apply(zed, 'dropped', { code: 'ECONNRESET', message: 'reset' }, stale)).rejects.toBeInstanceOf(FencedOutError);
    await reporter.recordDelivery(zed.id, new Date(0), 99, stale);
    const [after] = await queryDatabase<Record<string, unknown>>(db.url, `SELECT connection_state, owner_id, last_error_code, last_event_at FROM mailbox_status WHERE mailbox_id = $1`, [zed.id]);
    expect(after).toEqual({ connection_state: 'connected', owner_id: 'replica-b', last_error_code: null, last_event_at: null });
    await relay.drain();
    const ids = (await events.jobs()).map((job) => job.id).filter((id) => id?.includes(zed.id));
    expect(ids.sort()).toEqual([`mailbox.state_changed.${zed.id}.1`, `mailbox.state_changed.${zed.id}.2`]);
  });

  /** A mailbox of its own, held by replica-a, for a test that counts its events. */
  async function freshMailbox(login: string) {
    const [provider] = await queryDatabase<{ id: string }>(db.url, `SELECT provider_id AS id FROM mailboxes WHERE id = $1`, [mailbox.id]);
    const [row] = await queryDatabase<{ id: string }>(db.url, `INSERT INTO mailboxes (email, provider_id, login, enabled) VALUES ($2, $1, $3, true) RETURNING id`, [provider.id, `${login}@x.test`, login]);
    const ref = { id: row.id, email: `${login}@x.test`, externalId: null };
    return { ref, lease: await leaseOf('replica-a', ref.id) };
  }

  it('puts an event on the webhooks\' door only when an enabled endpoint subscribes to its type, read as the relay takes it', async () => {
    const fanout = new Queue(WEBHOOK_FANOUT_QUEUE, { connection: redis, prefix: config.queuePrefix });
    const endpoint = (events: string[], enabled: boolean) =>
      queryDatabase(db.url, `INSERT INTO webhook_endpoints (id, url, events, enabled, secret_encrypted) VALUES (gen_random_uuid(), 'https://crm.test/hook', $1, $2, 'sealed')`, [events, enabled]);
    const { ref, lease } = await freshMailbox('webhooked');
    /** The next state change of `ref` (connecting, connected, backoff, connecting …), published: its event id. */
    const cycle = ['start', 'listening', 'dropped', 'retry', 'listening', 'dropped', 'retry'] as const;
    let version = 0;
    const nextEvent = async () => {
      await reporter.apply(ref, cycle[version], cycle[version] === 'dropped' ? { code: 'ECONNRESET', message: 'reset' } : null, lease);
      version += 1;
      expect((await queryDatabase<{ v: number }>(db.url, `SELECT state_version::int AS v FROM mailbox_status WHERE mailbox_id = $1`, [ref.id]))[0].v).toBe(version);
      await relay.drain();
      return `mailbox.state_changed.${ref.id}.${version}`;
    };
    try {
      // No endpoint; one for mail.received only; one for state changes but disabled: the CRM's door alone.
      const unheard: string[] = [await nextEvent()];
      await endpoint(['mail.received'], true);
      unheard.push(await nextEvent());
      await endpoint(['mailbox.state_changed'], false);
      unheard.push(await nextEvent());
      for (const id of unheard) {
        expect(await events.job(id)).toBeDefined();
        expect(await fanout.getJob(id)).toBeUndefined();
      }
      // An enabled endpoint taking everything: both doors.
      await endpoint(['*'], true);
      const heard = await nextEvent();
      expect(await events.job(heard)).toBeDefined();
      expect(await fanout.getJob(heard)).toBeDefined();
    } finally {
      await queryDatabase(db.url, `DELETE FROM webhook_endpoints`);
      await fanout.obliterate({ force: true });
      await fanout.close();
    }
  });

  it('publishes a stream of commits in shared rounds, and a commit after a quiet spell at once', async () => {
    const streams = await Promise.all(['s1', 's2', 's3', 's4', 's5', 's6'].map((login) => freshMailbox(login)));
    await relay.drain();
    await new Promise((resolve) => setTimeout(resolve, 150));
    // Commits of the writers' own: the status writer paces its statements too (SETUP_BATCH_INTERVAL_MS),
    // so its reports would not make a stream of separate commits.
    const outbox = new EventOutbox(new EventOutboxRepository(), relay);
    const commit = async ({ ref }: { ref: MailboxRef }) => {
      await source.transaction((sql) => outbox.add(sql, [mailboxStateChanged(ref, 1, 'connecting', 'pending', null, new Date())]));
      outbox.committed();
    };
    const relayed = await relayTraffic(async () => {
      // Six commits in six turns, 10 ms apart: the first goes out at once, the others share the rounds
      // that start at most every 100 ms.
      const t0 = Date.now();
      await commit(streams[0]);
      while (!(await events.job(`mailbox.state_changed.${streams[0].ref.id}.1`))) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(Date.now() - t0).toBeLessThan(1_000);
      for (const stream of streams.slice(1)) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        await commit(stream);
      }
      await relay.drain();
    });
    const ids = new Set((await events.jobs()).map((job) => job.id));
    for (const { ref } of streams) expect(ids.has(`mailbox.state_changed.${ref.id}.1`)).toBe(true);
    expect(relayed.publishes.reduce((a, b) => a + b, 0)).toBe(6);
    // One round per commit would be six.
    expect(relayed.publishes.length).toBeLessThanOrEqual(3);
  });

  it('writes reports made in separate turns, as connections finish one by one, in shared statements', async () => {
    const paced = await Promise.all(['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].map((login) => freshMailbox(login)));
    await Promise.all(paced.map(({ ref, lease }) => reporter.apply(ref, 'start', null, lease)));
    await new Promise((resolve) => setTimeout(resolve, SETUP_BATCH_INTERVAL_MS + 50));
    // Six 'listening' reports 10 ms apart, each in a turn of its own with the statement before it long
    // finished: flightBatcher alone sent six statements; with the setup interval they share one or two.
    const statements = await statementsOf(source, () =>
      Promise.all(paced.map(async ({ ref, lease }, i) => (await new Promise((resolve) => setTimeout(resolve, i * 10)), reporter.apply(ref, 'listening', null, lease)))),
    );
    expect(statements.filter((statement) => statement === 'WITH').length).toBeLessThanOrEqual(2);
    for (const { ref } of paced) expect((await queryDatabase<{ s: string }>(db.url, `SELECT connection_state AS s FROM mailbox_status WHERE mailbox_id = $1`, [ref.id]))[0].s).toBe('connected');
  });
});
