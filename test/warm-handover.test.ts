import { rendezvousOwner } from '@app/cluster';
import { SyncMetrics } from '@app/sync';
import { buildMessage, ListenerWorld, queryDatabase, startListener } from '@app/testing';

const HEARTBEAT_MS = 200;
const LEASE_TTL_MS = 1500;
/** The other replica, played by the test: a row in listener_replicas whose heartbeat the test keeps fresh (or stops). */
const GHOST = 'listener-ghost';
/** Standby logins per second (IMAP_HANDOVER_CONNECT_RATE_PER_HOST; the cold-start ramp stays at its 200/s). */
const HANDOVER_RATE = 1;

/**
 * Make-before-break, the taker's side, against a real Dovecot: the listener (in-process) should own
 * mailboxes that another live replica holds. The test plays that owner (a heartbeat and its leases in
 * Postgres, no process), so it decides when the grant comes, or that it never does. The taker opens its
 * IMAP session (login, EXAMINE, IDLE) before it asks, writes and publishes nothing while it waits, and on
 * the grant (or the takeover from a dead owner) catches up from the owner's last cursor on that session.
 */
describe('Warm hand-over: the taker listens before it asks (listener in-process, Dovecot, Postgres, Redis)', () => {
  const world = new ListenerWorld();
  let me: string;
  let beating = true;
  let heartbeat: Promise<void>;
  /** Mailboxes the rendezvous gives to this listener over the ghost; the ghost holds their leases. */
  const mine: Array<{ id: string; email: string; folderId: string; uidValidity: number; ownerUid: number }> = [];
  /** When Dovecot first counted a session of each of `mine` (polled from the listener's start). */
  const firstSessionAt = new Map<string, number>();
  let sessionWatch: Promise<void>;

  const sql = <T extends Record<string, unknown> = Record<string, unknown>>(text: string, params: unknown[] = []) => queryDatabase<T>(world.db.url, text, params);
  const lease = async (mailboxId: string) => (await sql<{ owner_id: string | null; epoch: string; handover_to: string | null }>(`SELECT owner_id, epoch, handover_to FROM mailbox_leases WHERE mailbox_id = $1`, [mailboxId]))[0];
  const sessionsOf = async (email: string) => (await world.dovecot.sessionsByUser()).get(email) ?? 0;
  const cursorOf = async (folderId: string) => Number((await sql<{ last_uid: string }>(`SELECT last_uid FROM sync_cursors WHERE folder_id = $1`, [folderId]))[0]?.last_uid);
  const standbyCount = async (outcome: string) => ((await world.listener!.app.get(SyncMetrics).warmStandbys.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0);
  const subjectsOf = async (mailboxId: string) => (await world.received(mailboxId)).map((job) => job.data.message.subject as string).sort();

  beforeAll(async () => {
    await world.start({ listener: false, env: { CLUSTER_HEARTBEAT_MS: String(HEARTBEAT_MS), CLUSTER_LEASE_TTL_MS: String(LEASE_TTL_MS), SYNC_RECONCILE_INTERVAL_MS: '200', IMAP_HANDOVER_CONNECT_RATE_PER_HOST: String(HANDOVER_RATE) } });
    me = world.config.listener.id;
    await sql(`INSERT INTO listener_replicas (id, state, started_at, heartbeat_at) VALUES ($1, 'live', now(), now())`, [GHOST]);
    heartbeat = (async () => {
      while (beating) {
        await sql(`UPDATE listener_replicas SET heartbeat_at = now() WHERE id = $1`, [GHOST]);
        await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_MS));
      }
    })();
    // Three mailboxes the assignment gives to this listener, each held by the ghost under epoch 1, which
    // has published the first message and written its cursor there (as an owner does before granting).
    for (let i = 0; mine.length < 3; i++) {
      const mailbox = await world.mailbox(`warm${i}@contoso.com`);
      if (rendezvousOwner(mailbox.id, [GHOST, me].sort()) !== me) continue;
      const { uid, uidValidity } = await world.dovecot.deliver(mailbox.email, buildMessage({ to: mailbox.email, subject: 'before' }));
      const [folder] = await sql<{ id: string }>(`SELECT id FROM mailbox_folders WHERE mailbox_id = $1`, [mailbox.id]);
      await sql(
        `INSERT INTO mailbox_leases (mailbox_id, owner_id, epoch, acquired_at) VALUES ($1, $2, 1, now())
           ON CONFLICT (mailbox_id) DO UPDATE SET owner_id = $2, epoch = 1, handover_to = NULL`,
        [mailbox.id, GHOST],
      );
      await sql(`INSERT INTO sync_cursors (folder_id, mailbox_id, uid_validity, last_uid, fence_epoch, last_synced_at, updated_at) VALUES ($1, $2, $3, $4, 1, now(), now())`, [
        folder.id,
        mailbox.id,
        uidValidity,
        uid,
      ]);
      mine.push({ ...mailbox, folderId: folder.id, uidValidity, ownerUid: uid });
    }
    sessionWatch = (async () => {
      const deadline = Date.now() + 30_000;
      while (firstSessionAt.size < mine.length && Date.now() < deadline) {
        const counts = await world.dovecot.sessionsByUser();
        for (const { email } of mine) if (!firstSessionAt.has(email) && (counts.get(email) ?? 0) > 0) firstSessionAt.set(email, Date.now());
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    world.listener = await startListener(world.config);
  }, 120_000);

  afterAll(async () => {
    beating = false;
    await heartbeat;
    await world.stop();
  });

  it('opens its standby sessions at the hand-over rate (IMAP_HANDOVER_CONNECT_RATE_PER_HOST), not at the cold-start rate', async () => {
    await sessionWatch;
    const opened = [...firstSessionAt.values()].sort((a, b) => a - b);
    expect(opened).toHaveLength(mine.length);
    // A bucket of one token refilled once a second: the third login waits ~2 s for its turn. At the
    // cold-start rate (200/s, burst 200) all three log in within milliseconds of each other.
    expect(opened[2] - opened[0]).toBeGreaterThanOrEqual(((mine.length - 1) * 1000) / HANDOVER_RATE - 500);
  }, 60_000);

  it('opens its session before it asks, writes and publishes nothing while waiting, and on the grant catches up from the owner cursor on that same session', async () => {
    const [mailbox] = mine;
    // The ask comes only once the standby listens: by then Dovecot counts its session (the ghost has none).
    await world.waitFor(() => lease(mailbox.id), (row) => row.handover_to === me, 15_000, 'the lease asked for');
    expect(await sessionsOf(mailbox.email)).toBe(1);
    // Mail while the ghost still holds the lease: the standby does not fetch it, and writes nothing.
    await world.dovecot.deliver(mailbox.email, buildMessage({ to: mailbox.email, subject: 'while standing by' }));
    await world.waitFor(() => standbyCount('ready'), (n) => n >= 3, 10_000, 'every standby ready');
    expect(await world.received(mailbox.id)).toEqual([]);
    expect(await cursorOf(mailbox.folderId)).toBe(mailbox.ownerUid);
    expect((await world.status(mailbox.id)).owner).not.toBe(me);

    // The owner grants, as grantHandover does (its last cursor is written before).
    await sql(`UPDATE mailbox_leases SET owner_id = handover_to, epoch = epoch + 1, handover_to = NULL, acquired_at = now() WHERE mailbox_id = $1 AND owner_id = $2`, [mailbox.id, GHOST]);
    await world.waitForReceived(mailbox.id, 1, 10_000);
    await world.waitForState(mailbox.id, 'connected');
    expect(await subjectsOf(mailbox.id)).toEqual(['while standing by']);
    expect((await world.status(mailbox.id)).owner).toBe(me);
    expect(await standbyCount('activated')).toBe(1);
    // Activated on the open session: still exactly one, never closed and opened again.
    expect(await sessionsOf(mailbox.email)).toBe(1);
    // Mail after the grant arrives the usual way.
    await world.dovecot.deliver(mailbox.email, buildMessage({ to: mailbox.email, subject: 'after the grant' }));
    await world.waitForReceived(mailbox.id, 2, 10_000);
    expect(await subjectsOf(mailbox.id)).toEqual(['after the grant', 'while standing by']);
    expect(world.duplicatedMail(mailbox.id)).toEqual([]);
  }, 60_000);

  it('a standby whose mailbox is disabled while it waits closes its session, having written nothing', async () => {
    const mailbox = mine[2];
    expect(await sessionsOf(mailbox.email)).toBe(1);
    await world.api.http.patch(`/v1/mailboxes/${mailbox.id}`).set(world.api.auth).send({ enabled: false }).expect(200);
    await world.waitFor(() => sessionsOf(mailbox.email), (n) => n === 0, 10_000, 'the standby session closed');
    expect(await standbyCount('closed')).toBeGreaterThanOrEqual(1);
    expect(await cursorOf(mailbox.folderId)).toBe(mailbox.ownerUid);
    expect(await world.received(mailbox.id)).toEqual([]);
  }, 30_000);

  it('a standby whose session drops while it waits for the grant warms again on a new session and is asked for again, having written nothing', async () => {
    const mailbox = mine[1];
    expect((await lease(mailbox.id)).handover_to).toBe(me);
    const lost = await standbyCount('lost');
    const ready = await standbyCount('ready');
    // One kick (kickUser would go on kicking until the user has no session, the new standby's too).
    await world.dovecot.doveadm(['kick', mailbox.email]);
    await world.waitFor(() => standbyCount('lost'), (n) => n === lost + 1, 10_000, 'the standby lost');
    // Warmed again: a new session listens, and the ask stands.
    await world.waitFor(() => standbyCount('ready'), (n) => n === ready + 1, 10_000, 'the standby ready again');
    await world.waitFor(() => sessionsOf(mailbox.email), (n) => n === 1, 10_000, 'one session again');
    expect((await lease(mailbox.id)).handover_to).toBe(me);
    expect(await cursorOf(mailbox.folderId)).toBe(mailbox.ownerUid);
    expect(await world.received(mailbox.id)).toEqual([]);
  }, 30_000);

  it('a standby whose grant never comes (the owner dies) is activated when the lease is taken over as dead, catching up what arrived meanwhile', async () => {
    const mailbox = mine[1];
    expect((await lease(mailbox.id)).handover_to).toBe(me);
    expect(await sessionsOf(mailbox.email)).toBe(1);
    await world.dovecot.deliver(mailbox.email, buildMessage({ to: mailbox.email, subject: 'owner dying' }));
    const activated = await standbyCount('activated');
    beating = false;
    await heartbeat;
    await world.waitForReceived(mailbox.id, 1, 15_000);
    await world.waitForState(mailbox.id, 'connected');
    expect(await subjectsOf(mailbox.id)).toEqual(['owner dying']);
    expect(await lease(mailbox.id)).toMatchObject({ owner_id: me, epoch: '2' });
    expect(await standbyCount('activated')).toBe(activated + 1);
    expect(await sessionsOf(mailbox.email)).toBe(1);
    expect(world.duplicatedMail(mailbox.id)).toEqual([]);
  }, 30_000);
});
