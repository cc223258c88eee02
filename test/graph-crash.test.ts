import { AppProcess, ENTRY_POINTS, freePort, GraphWorld, startAppProcess, waitForHttpOk } from '@app/testing';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The built listener as a real process, SIGKILLed while Graph keeps notifying the API, then restarted:
 * every message exactly once. (npm run build first: this runs dist/.)
 */
describe('Graph listener crash and restart (real processes, fake Graph, Postgres, Redis)', () => {
  const world = new GraphWorld();
  let port: number;
  let listener: AppProcess | undefined;

  const startListenerProcess = async (push = true) => {
    // A short lease time: the restarted process (another LISTENER_ID) takes the killed one's leases once it lapsed.
    listener = startAppProcess(ENTRY_POINTS.listener, world.listenerEnv(port, { CLUSTER_HEARTBEAT_MS: '200', CLUSTER_LEASE_TTL_MS: '1000' }, push));
    await waitForHttpOk(`http://127.0.0.1:${port}/health/ready`, listener);
  };
  const kill = async () => {
    listener!.child.kill('SIGKILL');
    expect(await listener!.exited).toBe(137);
  };
  const subscriptionPosts = (email: string) => world.graph.requests.filter((r) => r.method === 'POST' && r.path === '/v1.0/subscriptions' && r.email === email);

  beforeAll(async () => {
    await world.start({ listener: false });
    port = await freePort();
  }, 60_000);

  afterEach(async () => {
    await listener?.stop('SIGKILL');
    world.graph.setResponseDelay(0);
  });

  afterAll(() => world.stop());

  it('publishes every message that arrived before, during and after the crash, once each; the subscription is kept', async () => {
    const mailbox = await world.mailbox('crash@contoso.com');
    await startListenerProcess();
    await world.waitForState(mailbox.id, 'connected');
    const [sub] = world.graphSubscriptions(mailbox.email);

    const delivered: string[] = [];
    /** When the last message went in (the listener process runs on the real clock). */
    let lastDeliveredAt = 0;
    const deliver = async (count: number, label: string) => {
      for (let i = 0; i < count; i++) {
        lastDeliveredAt = Date.now();
        delivered.push(world.graph.deliver(mailbox.email, { subject: `${label} ${i}` }).immutableId);
        await sleep(10);
      }
    };
    await deliver(20, 'before');
    await world.waitForReceived(mailbox.id, 20);

    // Killed mid-stream: no shutdown hook runs, nothing is released.
    const during = deliver(30, 'during');
    await sleep(150);
    const deliveredBeforeKill = delivered.length;
    await kill();
    await during;
    await deliver(10, 'while down');
    await world.graph.notificationsSettled();
    // Graph kept notifying; the API took every POST (the jobs wait in Redis for a listener).
    const changePosts = world.graph.notificationDeliveries.filter((d) => d.kind === 'change' && d.subscriptionIds.includes(sub.id));
    expect(changePosts.every((d) => d.status === 202)).toBe(true);

    await startListenerProcess();
    await deliver(10, 'after');
    await world.waitForReceived(mailbox.id, delivered.length, 30_000);
    // A delta round that ended after the last delivery stored its link (the round that published the last
    // message began after it): later rounds start past every message.
    await world.waitFor(() => world.status(mailbox.id), (s) => Date.parse(s.sync.folders[0].lastDeltaAt ?? 0) >= lastDeliveredAt, 10_000, 'a delta link stored after the last message');
    await world.watch.settle();
    const jobs = await world.received(mailbox.id);
    expect(jobs).toHaveLength(70);
    expect(new Set(jobs.map((job) => job.id)).size).toBe(70);
    expect(jobs.map((job) => job.data.message.providerMessageId).sort()).toEqual([...delivered].sort());
    // Re-published under the same id (dropped by the queue): only messages the killed process had published
    // in a round whose link it never stored, i.e. delivered before the kill.
    const inFlight = new Set(jobs.filter((job) => delivered.indexOf(job.data.message.providerMessageId) < deliveredBeforeKill).map((job) => job.id));
    expect(world.duplicatedMail(mailbox.id).filter((jobId) => !inFlight.has(jobId))).toEqual([]);

    // The restart adopted the stored subscription (renewed it) instead of creating a second one.
    expect(world.graphSubscriptions(mailbox.email).map((s) => s.id)).toEqual([sub.id]);
    expect(subscriptionPosts(mailbox.email)).toHaveLength(1);
    expect(world.graph.requests.some((r) => r.method === 'PATCH' && r.path === `/v1.0/subscriptions/${sub.id}` && r.status === 200)).toBe(true);
    expect((await world.status(mailbox.id)).connection.state).toBe('connected');

    // A clean stop hands the mailbox back and leaves the subscription for whoever runs it next.
    expect(await listener!.stop()).toBe(0);
    expect((await world.status(mailbox.id)).connection.state).toBe('pending');
    expect(world.graphSubscriptions(mailbox.email).map((s) => s.id)).toEqual([sub.id]);
  }, 90_000);

  it('killed before its first baseline round finished: mail received since the first subscription is still published', async () => {
    await startListenerProcess();
    // A slow Graph: the first round of the new mailbox is still in flight when the listener dies.
    world.graph.setResponseDelay(1_500);
    const address = 'early@contoso.com';
    world.addUser(address);
    const oldMail = world.graph.deliver(address, { subject: 'old', receivedDateTime: new Date(Date.now() - 3600_000).toISOString() });
    const mailbox = await world.mailbox(address);
    await world.waitFor(
      async () => world.graph.requests.find((r) => r.email === address && r.path.endsWith('/messages/delta')),
      Boolean,
      20_000,
      'first delta request',
    );
    expect(subscriptionPosts(address)).toHaveLength(1);
    const early = world.graph.deliver(address, { subject: 'early' });
    await kill();
    world.graph.setResponseDelay(0);
    await sleep(1_100); // the restart's own "now" is a later second

    await startListenerProcess();
    await world.waitForState(mailbox.id, 'connected');
    const [job] = await world.waitForReceived(mailbox.id, 1, 10_000);
    expect(job.data.message.providerMessageId).toBe(early.immutableId);
    const later = world.graph.deliver(address, { subject: 'later' });
    await world.waitForReceived(mailbox.id, 2);
    await sleep(300);
    expect((await world.received(mailbox.id)).map((j) => j.data.message.providerMessageId).sort()).toEqual([early.immutableId, later.immutableId].sort());
    expect(oldMail.subject).toBe('old');
  }, 90_000);

  it('restarted without PUBLIC_BASE_URL: deletes the subscription it can no longer be called on, and polls', async () => {
    const mailbox = await world.mailbox('switch@contoso.com');
    await startListenerProcess();
    await world.waitForState(mailbox.id, 'connected');
    const [sub] = world.graphSubscriptions(mailbox.email);
    expect(await listener!.stop()).toBe(0);

    await startListenerProcess(false);
    const status = await world.waitFor(() => world.status(mailbox.id), (s) => s.connection.state === 'connected' && s.sync.folders[0].mode === 'polling', 15_000, 'polling');
    expect(status.sync.folders[0]).toMatchObject({ subscriptionId: null, subscriptionExpiresAt: null });
    expect(status.recommendedAction).toMatch(/PUBLIC_BASE_URL/);
    expect(world.graphSubscriptions(mailbox.email)).toHaveLength(0);
    expect(world.graph.requests.some((r) => r.method === 'DELETE' && r.path === `/v1.0/subscriptions/${sub.id}` && r.status === 204)).toBe(true);
    expect(await world.subscriptionRows(mailbox.id)).toHaveLength(0);
    const message = world.graph.deliver(mailbox.email, { subject: 'polled' });
    const [job] = await world.waitForReceived(mailbox.id, 1, 5_000);
    expect(job.data.message.providerMessageId).toBe(message.immutableId);
  }, 60_000);
});
