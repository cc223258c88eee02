import { rendezvousOwner } from '@app/cluster';
import { AppConfig } from '@app/config';
import { GraphNotificationWorker, MailboxSupervisor } from '@app/sync';
import { GraphWorld, MailEventsWatch, queryDatabase, RunningListener, startListener } from '@app/testing';

const A = 'listener-a';
const B = 'listener-b';

/**
 * Graph notifications with two listener replicas in-process (fake Graph and Entra ID, the real API's
 * webhook receiver, real Postgres and Redis): whichever replica takes a job off `graph-notifications`,
 * the mailbox's owner syncs it. A runs its lease rounds every 200 ms; B only when the test says (its
 * first round runs at start, before any mailbox exists), so the test knows who holds what, and when.
 */
describe('Graph notifications reach the mailbox owner (two listeners, fake Graph, real API, Postgres, Redis)', () => {
  const world = new GraphWorld();
  let a: RunningListener;
  let b: RunningListener;
  let aClosed: Promise<void> | undefined;
  let watch: MailEventsWatch;
  let mailbox: { id: string; email: string };
  let seq = 0;

  const replica = (id: string, reconcileIntervalMs: number): AppConfig => {
    const config = world.listenerConfig();
    // Stopping does not wait for the other replica to ask for the leases (B never asks on its own).
    return { ...config, listener: { ...config.listener, id, reconcileIntervalMs }, cluster: { ...config.cluster, drainTimeoutMs: 300 } };
  };
  const closeA = () => (aClosed ??= a.close());
  const routed = (listener: RunningListener, route: string) => world.metric(listener.url, 'mail_listener_graph_notifications_routed_total', { route });
  const owners = (mailboxId: string) => queryDatabase<{ owner_id: string | null }>(world.db.url, `SELECT owner_id FROM mailbox_leases WHERE mailbox_id = $1`, [mailboxId]);

  beforeAll(async () => {
    await world.start({ listener: false, env: { CLUSTER_HEARTBEAT_MS: '200', CLUSTER_LEASE_TTL_MS: '1500' } });
    watch = await MailEventsWatch.open(world.config.redisUrl, world.config.queuePrefix);
    a = await startListener(replica(A, 200), { clock: world.clock });
    b = await startListener(replica(B, 10 * 60_000), { clock: world.clock });
    // A mailbox that rendezvous hashing gives to A (ids are random: the others stay disabled).
    for (;;) {
      const candidate = await world.mailbox(`route${++seq}@contoso.com`, { enabled: false });
      if (rendezvousOwner(candidate.id, [A, B]) !== A) continue;
      await world.api.http.patch(`/v1/mailboxes/${candidate.id}`).set(world.api.auth).send({ enabled: true }).expect(200);
      mailbox = candidate;
      break;
    }
    await world.waitForState(mailbox.id, 'connected');
    expect(await owners(mailbox.id)).toEqual([{ owner_id: A }]);
  }, 60_000);

  afterAll(async () => {
    await b?.close();
    if (a) await closeA();
    await watch?.close();
    await world.stop();
  });

  it('a notification the non-owner takes off the shared queue is forwarded to the owner, which syncs it once', async () => {
    // A takes nothing off the shared queue any more: B gets the job, and B does not run the mailbox.
    await a.app.get(GraphNotificationWorker).stopTakingShared();
    expect(b.app.get(MailboxSupervisor).graphRunner(mailbox.id)).toBeUndefined();
    const forwardedBefore = await routed(b, 'forwarded');
    const localBefore = await routed(a, 'local');

    const message = world.graph.deliver(mailbox.email, { subject: 'Routed to its owner' });
    const [job] = await world.waitForReceived(mailbox.id, 1, 10_000);
    expect(job.data.message.providerMessageId).toBe(message.immutableId);
    expect(await routed(b, 'forwarded')).toBe(forwardedBefore + 1);
    expect(await routed(a, 'local')).toBe(localBefore + 1);
    expect(await routed(b, 'dropped')).toBe(0);

    await watch.settle();
    expect(await world.received(mailbox.id)).toHaveLength(1);
    expect(watch.duplicated).toEqual([]);
  });

  it('a notification for a mailbox nobody holds is dropped, and its next owner catches up from the stored link: once, nothing twice', async () => {
    // A stops and gives its lease back (B never asked): nobody runs the mailbox; its subscription stays at Graph.
    const subscription = world.graphSubscriptions(mailbox.email)[0];
    await closeA();
    expect(await owners(mailbox.id)).toEqual([{ owner_id: null }]);
    const droppedBefore = await routed(b, 'dropped');

    const message = world.graph.deliver(mailbox.email, { subject: 'While nobody held it' });
    await world.waitFor(() => routed(b, 'dropped'), (n) => n === droppedBefore + 1, 10_000, 'B to drop the notification');
    expect(await world.received(mailbox.id)).toHaveLength(1);

    // B's next round takes the lease; its runner's first delta, from the link A stored, publishes the message.
    await b.app.get(MailboxSupervisor).reconcile();
    expect(await owners(mailbox.id)).toEqual([{ owner_id: B }]);
    const jobs = await world.waitForReceived(mailbox.id, 2, 10_000);
    expect(jobs.map((job) => job.data.message.providerMessageId)).toContain(message.immutableId);
    // The subscription A created is the one B runs with: a hand-back does not delete it at Graph.
    expect(world.graphSubscriptions(mailbox.email).map((sub) => sub.id)).toEqual([subscription.id]);

    await watch.settle();
    expect(await world.received(mailbox.id)).toHaveLength(2);
    expect(watch.duplicated).toEqual([]);
  });
});
