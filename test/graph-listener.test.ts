import { randomUUID } from 'node:crypto';
import { ReplicaHeartbeat } from '@app/cluster';
import { graphMessageRef } from '@app/events';
import { hashClientState } from '@app/graph';
import { MailboxSpecRepository, MailboxSupervisor } from '@app/sync';
import { FakeGraphDelivery, GraphWorld, queryDatabase } from '@app/testing';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const HOUR = 3600_000;

/**
 * The Graph listener end to end: fake Entra ID and fake Graph over real HTTP, the real API (webhook
 * receiver) and listener on real Postgres and Redis. Graph pushes to the API (PUBLIC_BASE_URL); the
 * safety sweep is off, so whatever is published here came through a notification.
 */
describe('Graph listener (fake Graph + Entra ID, real API, listener, Postgres, Redis)', () => {
  const world = new GraphWorld();
  let seq = 0;
  const email = (name = 'u') => `${name}${++seq}@contoso.com`;

  beforeAll(() => world.start(), 60_000);
  afterAll(() => world.stop());

  /** Graph API requests the fake answered for one mailbox (by path: subscription calls carry no mailbox path). */
  const requestsOf = (address: string) => world.graph.requests.filter((r) => r.email === address);
  const deltasOf = (address: string) => requestsOf(address).filter((r) => r.path.endsWith('/messages/delta'));
  const changeDeliveries = (subscriptionId: string): FakeGraphDelivery[] =>
    world.graph.notificationDeliveries.filter((d) => d.kind === 'change' && d.subscriptionIds.includes(subscriptionId));
  const apiCounter = (result: string) => world.metric(world.api.url, 'mail_listener_graph_notifications_total', { result });

  it('subscribes with a handshake, reports the subscription in the status, and publishes a new message within a second', async () => {
    const mailbox = await world.mailbox(email('ana'), { externalId: 'crm-ana' });
    await world.waitForState(mailbox.id, 'connected');

    // Graph validated both of our endpoints before it created the subscription.
    const [sub] = world.graphSubscriptions(mailbox.email);
    expect(world.graphSubscriptions(mailbox.email)).toHaveLength(1);
    const validations = world.graph.notificationDeliveries.filter((d) => d.kind === 'validation' && d.at >= sub.createdAt - 60_000);
    expect(validations.map((v) => [new URL(v.url).pathname, v.status])).toEqual(
      expect.arrayContaining([
        ['/v1/graph/notifications', 200],
        ['/v1/graph/lifecycle', 200],
      ]),
    );
    expect(sub).toMatchObject({
      changeType: 'created',
      notificationUrl: world.notificationUrl,
      lifecycleNotificationUrl: `${world.api.url}/v1/graph/lifecycle`,
      folderId: world.graph.folderId(mailbox.email, 'inbox'),
      immutableIds: true,
      applicationId: expect.any(String),
    });
    // The row the receiver checks notifications against: same id, the clientState only as its hash.
    const [row] = await queryDatabase<{ subscription_id: string; client_state_hash: Buffer; expires_at: Date }>(
      world.db.url,
      `SELECT subscription_id, client_state_hash, expires_at FROM graph_subscriptions WHERE mailbox_id = $1`,
      [mailbox.id],
    );
    expect(row.subscription_id).toBe(sub.id);
    expect(row.client_state_hash.equals(hashClientState(sub.clientState!))).toBe(true);
    expect(Math.abs(row.expires_at.getTime() - sub.expiresAt)).toBeLessThan(1_000);
    // Default lifetime: GRAPH_SUBSCRIPTION_MINUTES = 4230.
    expect(sub.expiresAt - sub.createdAt).toBeGreaterThan(4229 * 60_000);

    const before = await world.status(mailbox.id);
    expect(before.sync.folders).toEqual([
      {
        name: 'INBOX',
        mode: 'push',
        uidValidity: null,
        lastUid: null,
        lastSyncedAt: expect.any(String),
        subscriptionId: sub.id,
        subscriptionExpiresAt: new Date(row.expires_at).toISOString(),
        lastNotificationAt: null,
        lastDeltaAt: expect.any(String),
      },
    ]);
    expect(before.recommendedAction).toBeNull();

    const sent = Date.now();
    const message = world.graph.deliver(mailbox.email, {
      subject: 'Quarterly numbers',
      from: { emailAddress: { name: 'Bo Li', address: 'bo@fabrikam.com' } },
      internetMessageId: '<q1@fabrikam.com>',
    });
    const [job] = await world.waitForReceived(mailbox.id, 1, 5_000);
    expect(Date.now() - sent).toBeLessThan(1_000);
    expect(job.id).toBe(job.data.id);
    expect(job.id).not.toContain(':');
    expect(job.data).toEqual({
      id: expect.stringMatching(/^mail\.received\./),
      type: 'mail.received',
      version: 1,
      occurredAt: expect.any(String),
      mailbox: { id: mailbox.id, email: mailbox.email, externalId: 'crm-ana' },
      message: {
        ref: graphMessageRef(mailbox.id, 'INBOX', message.immutableId),
        folder: 'INBOX',
        uid: null,
        uidValidity: null,
        providerMessageId: message.immutableId,
        internetMessageId: '<q1@fabrikam.com>',
        subject: 'Quarterly numbers',
        from: { name: 'Bo Li', address: 'bo@fabrikam.com' },
        to: [{ name: expect.any(String), address: mailbox.email }],
        cc: [],
        receivedAt: new Date(Math.floor(Date.parse(message.receivedDateTime) / 1000) * 1000).toISOString(),
        size: null,
      },
    });
    // It came through the notification: one change POST, answered 202 by the API.
    expect(changeDeliveries(sub.id).map((d) => d.status)).toEqual([202]);

    const after = await world.waitFor(() => world.status(mailbox.id), (s) => s.sync.folders[0].lastNotificationAt !== null, 5_000, 'lastNotificationAt');
    expect(after.sync.lastEventAt).not.toBeNull();
    expect(after.connection).toMatchObject({ state: 'connected', lastError: null });
    expect(after.owner).toBe(world.config.listener.id);
    expect(await world.metric(world.listener!.url, 'mail_listener_graph_subscriptions', { state: 'active' })).toBeGreaterThanOrEqual(1);
    expect(await world.metric(world.listener!.url, 'mail_listener_graph_subscriptions', { state: 'polling' })).toBe(0);
    expect(await apiCounter('accepted')).toBeGreaterThanOrEqual(1);
    const states = (await world.waitForEvents(mailbox.id, 'mailbox.state_changed', (jobs) => jobs.some((j) => j.data.state === 'connected'), 'the connected event')).map((j) => j.data.state);
    expect(states).toEqual(expect.arrayContaining(['connecting', 'connected']));
  });

  it('takes a baseline on the first subscription without replaying old mail, unless backfillSince asks for it', async () => {
    const fresh = email('base');
    world.addUser(fresh);
    world.graph.deliver(fresh, { subject: 'old 1', receivedDateTime: new Date(Date.now() - 2 * HOUR).toISOString() });
    world.graph.deliver(fresh, { subject: 'old 2', receivedDateTime: new Date(Date.now() - 60_000).toISOString() });
    const mailbox = await world.mailbox(fresh);
    await world.waitForState(mailbox.id, 'connected');
    world.graph.deliver(fresh, { subject: 'new' });
    await world.waitForReceived(mailbox.id, 1);
    await sleep(300);
    expect((await world.received(mailbox.id)).map((job) => job.data.message.subject)).toEqual(['new']);

    const backfilled = email('backfill');
    world.addUser(backfilled);
    world.graph.deliver(backfilled, { subject: 'b1', receivedDateTime: new Date(Date.now() - 2 * HOUR).toISOString() });
    world.graph.deliver(backfilled, { subject: 'b2', receivedDateTime: new Date(Date.now() - 3 * HOUR).toISOString() });
    world.graph.deliver(backfilled, { subject: 'too old', receivedDateTime: new Date(Date.now() - 72 * HOUR).toISOString() });
    const since = new Date(Date.now() - 24 * HOUR);
    const created = await world.mailbox(backfilled, { backfillSince: since.toISOString() });
    const replayed = await world.waitForReceived(created.id, 2);
    await sleep(300);
    expect((await world.received(created.id)).map((job) => job.data.message.subject).sort()).toEqual(['b1', 'b2']);
    expect(replayed).toHaveLength(2);
    expect(deltasOf(backfilled)[0].query.$filter).toBe(`receivedDateTime ge ${new Date(Math.floor(since.getTime() / 1000) * 1000).toISOString()}`);
  });

  it('a burst of 100 messages becomes 100 events, once each', async () => {
    const mailbox = await world.mailbox(email('burst'));
    await world.waitForState(mailbox.id, 'connected');
    const messages = world.graph.deliverMany(mailbox.email, 100);
    const deliveredAt = world.clock.now();
    await world.waitForReceived(mailbox.id, 100, 15_000);
    // A delta round that ended after the burst stored its link: later rounds start past every message.
    await world.waitFor(() => world.status(mailbox.id), (s) => Date.parse(s.sync.folders[0].lastDeltaAt ?? 0) >= deliveredAt, 10_000, 'a delta link stored after the burst');
    await world.watch.settle();
    const jobs = await world.received(mailbox.id);
    expect(jobs).toHaveLength(100);
    expect(new Set(jobs.map((job) => job.id)).size).toBe(100);
    expect(jobs.map((job) => job.data.message.providerMessageId).sort()).toEqual(messages.map((m) => m.immutableId).sort());
    // Not re-published under the same ids either (the queue would have dropped those silently).
    expect(world.duplicatedMail(mailbox.id)).toEqual([]);
  });

  it('duplicate and replayed notifications publish nothing twice', async () => {
    const mailbox = await world.mailbox(email('replay'));
    await world.waitForState(mailbox.id, 'connected');
    const [sub] = world.graphSubscriptions(mailbox.email);
    world.graph.deliver(mailbox.email, { subject: 'once' });
    const [first] = await world.waitForReceived(mailbox.id, 1);
    await world.graph.notificationsSettled();
    const original = changeDeliveries(sub.id).at(-1)!;
    expect(original.status).toBe(202);
    const item = (original.payload as { value: unknown[] }).value[0];

    const accepted = await apiCounter('accepted');
    const jobsBefore = await world.notificationJobsAdded();
    const deltasBefore = deltasOf(mailbox.email).length;
    // Graph retrying a batch, a replay of the same POST, and one POST carrying the item three times.
    for (const body of [original.payload, original.payload, { value: [item, item, item] }]) {
      expect((await world.graph.sendRaw(world.notificationUrl, body)).status).toBe(202);
    }
    expect(await apiCounter('accepted')).toBe(accepted + 5);
    expect(await world.notificationJobsAdded()).toBe(jobsBefore + 3);
    // The listener ran delta rounds for them (and found nothing new).
    await world.waitFor(async () => deltasOf(mailbox.email).length, (n) => n > deltasBefore, 5_000, 'delta after the replays');
    await sleep(500);
    const jobs = await world.received(mailbox.id);
    expect(jobs.map((job) => job.id)).toEqual([first.id]);
  });

  it('forged clientState and unknown subscriptions: nothing enqueued, counted', async () => {
    const mailbox = await world.mailbox(email('forged'));
    await world.waitForState(mailbox.id, 'connected');
    const [sub] = world.graphSubscriptions(mailbox.email);
    const notification = (subscriptionId: string, clientState: string | undefined) => ({
      subscriptionId,
      subscriptionExpirationDateTime: sub.expirationDateTime,
      changeType: 'created',
      resource: `Users/${sub.userId}/Messages/AAMkforged`,
      resourceData: { '@odata.type': '#Microsoft.Graph.Message', id: 'AAMkforged' },
      ...(clientState === undefined ? {} : { clientState }),
      tenantId: sub.tenantId,
    });
    const forged = await apiCounter('forged');
    const unknown = await apiCounter('unknown_subscription');
    const jobsBefore = await world.notificationJobsAdded();
    const requestsBefore = requestsOf(mailbox.email).length;
    for (const body of [
      { value: [notification(sub.id, 'not-the-client-state')] },
      { value: [notification(sub.id, undefined)] },
      { value: [notification(randomUUID(), sub.clientState)] },
    ]) {
      expect((await world.graph.sendRaw(world.notificationUrl, body)).status).toBe(202);
    }
    // A forged lifecycle event must not make the listener drop or recreate the subscription either.
    const lifecycle = { subscriptionId: sub.id, lifecycleEvent: 'subscriptionRemoved', clientState: 'guessed', tenantId: sub.tenantId, subscriptionExpirationDateTime: sub.expirationDateTime };
    expect((await world.graph.sendRaw(`${world.api.url}/v1/graph/lifecycle`, { value: [lifecycle] })).status).toBe(202);

    expect(await apiCounter('forged')).toBe(forged + 3);
    expect(await apiCounter('unknown_subscription')).toBe(unknown + 1);
    expect(await world.notificationJobsAdded()).toBe(jobsBefore);
    await sleep(500);
    expect(requestsOf(mailbox.email)).toHaveLength(requestsBefore);
    expect(world.graphSubscriptions(mailbox.email).map((s) => s.id)).toEqual([sub.id]);
    expect(await world.received(mailbox.id)).toHaveLength(0);
  });

  it('a delta reset (410) gives mailbox.resynced and a new baseline, without a flood of old mail', async () => {
    const address = email('reset');
    world.addUser(address);
    const old = Array.from({ length: 5 }, (_, i) => world.graph.deliver(address, { subject: `old ${i}`, receivedDateTime: new Date(Date.now() - 48 * HOUR).toISOString() }));
    const mailbox = await world.mailbox(address);
    await world.waitForState(mailbox.id, 'connected');
    const recent = [world.graph.deliver(address, { subject: 'recent 1' }), world.graph.deliver(address, { subject: 'recent 2' })];
    await world.waitForReceived(mailbox.id, 2);

    world.graph.resetDeltaState(address);
    const afterReset = world.graph.deliver(address, { subject: 'after reset' });
    const resynced = await world.waitFor(() => world.jobsOf(mailbox.id, 'mailbox.resynced'), (jobs) => jobs.length === 1, 10_000, 'mailbox.resynced');
    expect(resynced[0].data).toMatchObject({ folder: 'INBOX', reason: 'delta_reset', previousUidValidity: null, uidValidity: null });
    expect(deltasOf(address).some((r) => r.status === 410)).toBe(true);
    await world.waitForReceived(mailbox.id, 3);
    const later = world.graph.deliver(address, { subject: 'later' });
    await world.waitForReceived(mailbox.id, 4);
    await sleep(500);

    const jobs = await world.received(mailbox.id);
    // Every new message once; the messages of the overlap were published again under the same ids (dropped).
    expect(jobs.map((job) => job.data.message.providerMessageId).sort()).toEqual([...recent, afterReset, later].map((m) => m.immutableId).sort());
    expect(jobs.map((job) => job.data.message.subject)).not.toEqual(expect.arrayContaining([expect.stringMatching(/^old/)]));
    expect(old).toHaveLength(5);
    expect((await world.status(mailbox.id)).connection.state).toBe('connected');
  });

  it('respects throttling: waits as long as Retry-After says, then delivers; the mailbox stays connected', async () => {
    const mailbox = await world.mailbox(email('throttled'));
    await world.waitForState(mailbox.id, 'connected');
    const throttledBefore = await world.metric(world.listener!.url, 'mail_listener_graph_throttled_total');
    world.graph.throttleNext(1, { email: mailbox.email, retryAfterSeconds: 2 });
    const sent = Date.now();
    world.graph.deliver(mailbox.email, { subject: 'after the wait' });
    await world.waitForReceived(mailbox.id, 1, 10_000);
    const elapsed = Date.now() - sent;
    expect(elapsed).toBeGreaterThanOrEqual(2_000);
    expect(elapsed).toBeLessThan(4_000);
    const deltas = deltasOf(mailbox.email).slice(-2);
    expect(deltas.map((r) => r.status)).toEqual([429, 200]);
    expect(deltas[1].startedAt - deltas[0].endedAt).toBeGreaterThanOrEqual(1_950);
    expect(await world.metric(world.listener!.url, 'mail_listener_graph_throttled_total')).toBe(throttledBefore + 1);
    expect((await world.status(mailbox.id)).connection.state).toBe('connected');
  });

  it('throttled beyond its retries: backoff with GRAPH_THROTTLED, then it reconnects and catches up', async () => {
    const mailbox = await world.mailbox(email('overloaded'));
    await world.waitForState(mailbox.id, 'connected');
    // The first try and the client's 5 retries all answered 429.
    world.graph.throttleNext(6, { email: mailbox.email, retryAfterSeconds: 0 });
    const message = world.graph.deliver(mailbox.email, { subject: 'eventually' });
    const [job] = await world.waitForReceived(mailbox.id, 1, 15_000);
    expect(job.data.message.providerMessageId).toBe(message.immutableId);
    const backoff = (await world.jobsOf(mailbox.id, 'mailbox.state_changed')).map((j) => j.data).find((event) => event.state === 'backoff');
    expect(backoff).toMatchObject({ previous: 'connected', reason: { code: 'GRAPH_THROTTLED' } });
    await world.waitForState(mailbox.id, 'connected');
    expect(deltasOf(mailbox.email).filter((r) => r.status === 429)).toHaveLength(6);
    await sleep(300);
    expect(await world.received(mailbox.id)).toHaveLength(1);
  });

  it('never has more than 4 Graph requests in flight per mailbox (6 folders, slow Graph)', async () => {
    const address = email('busy');
    world.addUser(address);
    const projects = world.graph.addFolder(address, 'Projects');
    world.graph.setResponseDelay(150);
    try {
      const mailbox = await world.mailbox(address, { folders: ['INBOX', 'Archive', 'SentItems', 'Drafts', 'DeletedItems', 'Projects'] });
      await world.waitForState(mailbox.id, 'connected', 30_000);
      for (const folder of ['inbox', 'archive', 'sentitems', 'drafts', 'deleteditems', projects.id]) world.graph.deliver(address, { subject: `to ${folder}` }, folder);
      const jobs = await world.waitForReceived(mailbox.id, 6, 15_000);
      expect(jobs.map((job) => job.data.message.folder).sort()).toEqual(['Archive', 'DeletedItems', 'Drafts', 'INBOX', 'Projects', 'SentItems']);
      expect(world.graph.maxConcurrentRequests(address)).toBe(4);
      expect(requestsOf(address).filter((r) => r.status === 429)).toHaveLength(0);
      expect(world.graphSubscriptions(address)).toHaveLength(6);
    } finally {
      world.graph.setResponseDelay(0);
    }
  });

  it('a mailbox deleted after a pass read the mailbox list (its lease went with the row) still has its subscription deleted at Graph', async () => {
    const mailbox = await world.mailbox(email('gone-mid-pass'));
    await world.waitForState(mailbox.id, 'connected');
    const [sub] = world.graphSubscriptions(mailbox.email);
    // The race: a pass reads the (unchanged) mailbox list, then the mailbox and, by cascade, its lease are
    // deleted before the pass's lease round. Frozen version + a delete without a control message make it certain.
    // The lease round must read every lease held to see one gone: as after a heartbeat lapse (else only
    // once a minute; the next pass would see the new version and stop the runner as deleted anyway).
    const repository = world.listener!.app.get(MailboxSpecRepository);
    const frozen = await repository.version();
    const version = jest.spyOn(repository, 'version').mockResolvedValue(frozen);
    const lapsed = jest.spyOn(world.listener!.app.get(ReplicaHeartbeat), 'lapsedSince').mockReturnValue(true);
    try {
      // Passes run every 200 ms; 20 s for the next under CI load (5 s once ran out).
      await world.waitFor(() => Promise.resolve(version.mock.calls.length), (n) => n >= 1, 20_000, 'a pass with the frozen version');
      await queryDatabase(world.db.url, `DELETE FROM mailboxes WHERE id = $1`, [mailbox.id]);
      await world.waitFor(async () => world.graphSubscriptions(mailbox.email).length, (n) => n === 0, 5_000, 'subscription deleted');
      expect(world.graph.requests.filter((r) => r.method === 'DELETE').map((r) => [r.path, r.status])).toContainEqual([`/v1.0/subscriptions/${sub.id}`, 204]);
      expect(world.listener!.app.get(MailboxSupervisor).runner(mailbox.id)).toBeUndefined();
    } finally {
      version.mockRestore();
      lapsed.mockRestore();
    }
  });

  it('a runner fenced out because its mailbox was deleted (before any pass saw it) deletes its subscription at Graph', async () => {
    const mailbox = await world.mailbox(email('fenced-gone'));
    await world.waitForState(mailbox.id, 'connected');
    const [sub] = world.graphSubscriptions(mailbox.email);
    const supervisor = world.listener!.app.get(MailboxSupervisor);
    // No pass may notice the deletion first (frozen version, no control message: a delete in SQL); the
    // runner's own next write (a reconnect's status write) is what meets the fence: its lease went with the row.
    const repository = world.listener!.app.get(MailboxSpecRepository);
    const version = jest.spyOn(repository, 'version').mockResolvedValue(await repository.version());
    const fencedWrites = () => world.metric(world.listener!.url, 'mail_listener_fenced_writes_total');
    const fencedBefore = await fencedWrites();
    try {
      await world.waitFor(() => Promise.resolve(version.mock.calls.length), (n) => n >= 1, 20_000, 'a pass with the frozen version');
      await queryDatabase(world.db.url, `DELETE FROM mailboxes WHERE id = $1`, [mailbox.id]);
      await supervisor.runner(mailbox.id)!.restart();
      await world.waitFor(async () => world.graphSubscriptions(mailbox.email).length, (n) => n === 0, 5_000, 'subscription deleted');
      expect(world.graph.requests.filter((r) => r.method === 'DELETE').map((r) => [r.path, r.status])).toContainEqual([`/v1.0/subscriptions/${sub.id}`, 204]);
      // The fence is remembered: the passes after it (the mailbox still listed, its lease remembered until the
      // minute's full read) start no runner under the refused lease. Each such runner was fenced out in turn
      // (a CI run once caught one in the map).
      const passes = version.mock.calls.length;
      await world.waitFor(() => Promise.resolve(version.mock.calls.length), (n) => n >= passes + 3, 20_000, 'three more passes');
      expect(supervisor.runner(mailbox.id)).toBeUndefined();
      expect(await fencedWrites()).toBe(fencedBefore + 1);
    } finally {
      version.mockRestore();
    }
  });

  it('deletes the subscription at Graph when the mailbox is deleted or disabled; re-enabled, it catches up', async () => {
    const deleted = await world.mailbox(email('deleted'));
    const disabled = await world.mailbox(email('disabled'));
    await world.waitForState(deleted.id, 'connected');
    await world.waitForState(disabled.id, 'connected');
    const [deletedSub] = world.graphSubscriptions(deleted.email);
    const [disabledSub] = world.graphSubscriptions(disabled.email);

    await world.api.http.delete(`/v1/mailboxes/${deleted.id}`).set(world.api.auth).expect(204);
    await world.api.http.patch(`/v1/mailboxes/${disabled.id}`).set(world.api.auth).send({ enabled: false }).expect(200);
    await world.waitFor(async () => [...world.graphSubscriptions(deleted.email), ...world.graphSubscriptions(disabled.email)].map((s) => `${s.email} ${s.id}`), (left) => left.length === 0, 5_000, 'subscriptions deleted');
    const deletes = world.graph.requests.filter((r) => r.method === 'DELETE').map((r) => [r.path, r.status]);
    expect(deletes).toEqual(expect.arrayContaining([[`/v1.0/subscriptions/${deletedSub.id}`, 204], [`/v1.0/subscriptions/${disabledSub.id}`, 204]]));
    expect(await world.subscriptionRows(disabled.id)).toHaveLength(0);
    expect(await world.subscriptionRows(deleted.id)).toHaveLength(0);
    expect(world.listener!.app.get(MailboxSupervisor).runner(deleted.id)).toBeUndefined();
    expect((await world.status(disabled.id)).connection.state).toBe('disabled');

    // Mail that arrives while disabled is published once the mailbox is enabled again (delta from the stored link).
    const whileDisabled = world.graph.deliver(disabled.email, { subject: 'while disabled' });
    await world.api.http.patch(`/v1/mailboxes/${disabled.id}`).set(world.api.auth).send({ enabled: true }).expect(200);
    const [job] = await world.waitForReceived(disabled.id, 1);
    expect(job.data.message.providerMessageId).toBe(whileDisabled.immutableId);
    expect(world.graphSubscriptions(disabled.email)).toHaveLength(1);
    expect(world.graphSubscriptions(disabled.email)[0].id).not.toBe(disabledSub.id);
  });

  it('a mailbox disabled or deleted while it backs off still has the subscription its failed attempt kept deleted at Graph', async () => {
    const disabled = await world.mailbox(email('stranded-disabled'));
    const deleted = await world.mailbox(email('stranded-deleted'));
    for (const mailbox of [disabled, deleted]) await world.waitForState(mailbox.id, 'connected');
    // Delta fails from now on: the folder's round fails, the attempt ends keeping its subscription at Graph for the next one.
    for (const mailbox of [disabled, deleted]) {
      world.graph.failNext(10_000, { status: 500, code: 'InternalServerError', message: 'delta is down', email: mailbox.email, path: /\/messages\/delta$/ });
      world.graph.deliver(mailbox.email, { subject: 'while delta is down' });
    }
    for (const mailbox of [disabled, deleted]) await world.waitForState(mailbox.id, 'backoff');
    const kept = [...world.graphSubscriptions(disabled.email), ...world.graphSubscriptions(deleted.email)].map((subscription) => subscription.id);
    expect(kept).toHaveLength(2);

    await world.api.http.patch(`/v1/mailboxes/${disabled.id}`).set(world.api.auth).send({ enabled: false }).expect(200);
    await world.api.http.delete(`/v1/mailboxes/${deleted.id}`).set(world.api.auth).expect(204);
    await world.waitFor(async () => world.graphSubscriptions(disabled.email).length + world.graphSubscriptions(deleted.email).length, (n) => n === 0, 5_000, 'kept subscriptions deleted');
    const deletes = world.graph.requests.filter((r) => r.method === 'DELETE').map((r) => r.path);
    expect(deletes).toEqual(expect.arrayContaining(kept.map((id) => `/v1.0/subscriptions/${id}`)));
    expect(await world.subscriptionRows(disabled.id)).toHaveLength(0);
  });
});
