import { DataSource } from 'typeorm';
import { FencedOutError, LeaseFence, MailboxLeaseRepository, ReplicaRegistry } from '@app/cluster';
import { dataSourceOptions, runMigrations } from '@app/persistence';
import { FolderCursorRepository, GraphSubscriptionRepository } from '@app/sync';
import { createTestDatabase, queryDatabase, statementsOf, TestDatabase } from '@app/testing';

const TTL_MS = 10_000;

/**
 * The listener's cursor and Graph subscription rows against real Postgres and real leases: the reads and
 * writes of one event-loop turn are one statement each, every write is fenced by the writer's lease
 * (owner and epoch), and a cursor never moves backwards.
 */
describe('FolderCursorRepository', () => {
  let db: TestDatabase;
  let source: DataSource;
  let store: FolderCursorRepository;
  let leases: MailboxLeaseRepository;
  let folders: { id: string; mailboxId: string }[];
  /** This replica's lease on every test mailbox (all taken together: epoch 1). */
  const mine: LeaseFence = { owner: 'replica-a', epoch: 1 };

  beforeAll(async () => {
    db = await createTestDatabase();
    source = await new DataSource(dataSourceOptions(db.url, 2)).initialize();
    await runMigrations(source);
    store = new FolderCursorRepository(source);
    leases = new MailboxLeaseRepository(source);
    const [provider] = await queryDatabase<{ id: string }>(
      db.url,
      `INSERT INTO providers (name, type, host, port, secure, verify_certificate, load_emails, send_emails, login_format, auth_method)
       VALUES ('p', 'imap', 'imap.test', 993, true, true, true, false, 'email', 'basic') RETURNING id`,
    );
    const mailboxes = await queryDatabase<{ id: string }>(
      db.url,
      `INSERT INTO mailboxes (email, provider_id, login, enabled) SELECT 'c' || i || '@x.test', $1, 'c' || i, true FROM generate_series(1, 30) i RETURNING id`,
      [provider.id],
    );
    folders = (
      await queryDatabase<{ id: string; mailbox_id: string }>(
        db.url,
        `INSERT INTO mailbox_folders (mailbox_id, path, position) SELECT unnest($1::uuid[]), 'INBOX', 0 RETURNING id, mailbox_id`,
        [mailboxes.map((m) => m.id)],
      )
    ).map((row) => ({ id: row.id, mailboxId: row.mailbox_id }));
    const replicas = new ReplicaRegistry(source);
    await replicas.register('replica-a');
    await replicas.register('replica-b');
    expect((await leases.acquire(mailboxes.map((m) => m.id), 'replica-a', TTL_MS)).every((lease) => lease.epoch === 1)).toBe(true);
  });

  afterAll(async () => {
    await source.destroy();
    await db.drop();
  });

  /** Another replica takes the mailbox's lease, with the next epoch (as a takeover or a grant does). */
  async function takenBy(owner: string, mailboxId: string): Promise<LeaseFence> {
    const [row] = await queryDatabase<{ epoch: string }>(db.url, `UPDATE mailbox_leases SET owner_id = $2, epoch = epoch + 1 WHERE mailbox_id = $1 RETURNING epoch`, [mailboxId, owner]);
    return { owner, epoch: Number(row.epoch) };
  }

  it('loads, baselines and advances 30 folders with one statement each', async () => {
    let loaded: Awaited<ReturnType<FolderCursorRepository['load']>>[] = [];
    expect(await statementsOf(source, async () => (loaded = await Promise.all(folders.map((f) => store.load(f.id)))))).toEqual(['SELECT']);
    expect(loaded.every((cursor) => cursor.uidValidity === null && cursor.lastUid === null)).toBe(true);

    expect(await statementsOf(source, () => Promise.all(folders.map((f, i) => store.baseline(f.id, f.mailboxId, 7, 100 + i, mine))))).toEqual(['INSERT']);
    expect(await statementsOf(source, () => Promise.all(folders.map((f) => store.advance(f.id, 7, 500, mine))))).toEqual(['UPDATE']);

    const rows = await queryDatabase<{ last_uid: string; fence_epoch: string }>(db.url, `SELECT last_uid, fence_epoch FROM sync_cursors WHERE folder_id = ANY($1::uuid[])`, [
      folders.map((f) => f.id),
    ]);
    expect(rows.map((row) => Number(row.last_uid))).toEqual(folders.map(() => 500));
    expect(rows.every((row) => row.fence_epoch === '1')).toBe(true);
    expect(await Promise.all(folders.slice(0, 3).map((f) => store.load(f.id)))).toEqual(folders.slice(0, 3).map(() => ({ uidValidity: 7, lastUid: 500 })));
  });

  it('never moves a cursor backwards, applies two writes of one folder in one turn in order, and fences per mailbox', async () => {
    const [a, b, c, d] = folders;
    // c's mailbox belongs to another replica now: this one's writes to it are refused.
    await takenBy('replica-b', c.mailboxId);
    const results = await Promise.allSettled([
      store.advance(a.id, 7, 400, mine), // behind: stays at 500
      store.advance(a.id, 7, 600, mine), // same folder, same turn: next statement, moves on
      store.advance(b.id, 8, 900, mine), // another UIDVALIDITY by now: not moved, not an error
      store.advance(c.id, 7, 900, mine), // fenced out
      store.baseline(d.id, d.mailboxId, 9, 1, mine),
      store.baseline(d.id, d.mailboxId, 10, 2, mine), // the later baseline of the turn wins
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((results[3] as PromiseRejectedResult).reason).toBeInstanceOf(FencedOutError);
    expect(await store.load(a.id)).toEqual({ uidValidity: 7, lastUid: 600 });
    expect(await store.load(b.id)).toEqual({ uidValidity: 7, lastUid: 500 });
    expect(await store.load(c.id)).toEqual({ uidValidity: 7, lastUid: 500 });
    expect(await store.load(d.id)).toEqual({ uidValidity: 10, lastUid: 2 });
    await expect(store.baseline(c.id, c.mailboxId, 11, 1, mine)).rejects.toBeInstanceOf(FencedOutError);
  });

  it('takes the lease owner, not only the epoch: an equal or higher epoch of a replica that does not hold the lease is refused', async () => {
    const e = folders[4];
    const theirs = await takenBy('replica-b', e.mailboxId);
    // A stale replica cannot get around the fence by naming a bigger number.
    await expect(store.advance(e.id, 7, 900, { owner: 'replica-a', epoch: theirs.epoch })).rejects.toBeInstanceOf(FencedOutError);
    await expect(store.advance(e.id, 7, 900, { owner: 'replica-a', epoch: theirs.epoch + 5 })).rejects.toBeInstanceOf(FencedOutError);
    await store.advance(e.id, 7, 700, theirs);
    expect(await store.load(e.id)).toEqual({ uidValidity: 7, lastUid: 700 });
  });

  it('a baseline of the same UIDVALIDITY keeps the furthest cursor (a takeover racing a first baseline cannot move it back)', async () => {
    const f = folders[5];
    await store.advance(f.id, 7, 800, mine);
    await store.baseline(f.id, f.mailboxId, 7, 650, mine);
    expect(await store.load(f.id)).toEqual({ uidValidity: 7, lastUid: 800 });
    // A new UIDVALIDITY starts afresh.
    await store.baseline(f.id, f.mailboxId, 8, 3, mine);
    expect(await store.load(f.id)).toEqual({ uidValidity: 8, lastUid: 3 });
  });

  it('Graph cursors are fenced too: a lost lease neither stores a delta link nor clears it', async () => {
    const g = folders[6];
    await store.saveGraph(g.id, g.mailboxId, { remoteFolderId: 'inbox', deltaLink: 'link-1', mode: 'push' }, mine);
    const theirs = await takenBy('replica-b', g.mailboxId);
    await expect(store.saveGraph(g.id, g.mailboxId, { remoteFolderId: 'inbox', deltaLink: 'stale', mode: 'push' }, mine)).rejects.toBeInstanceOf(FencedOutError);
    await expect(store.clearDeltaLink(g.id, mine, new Date())).rejects.toBeInstanceOf(FencedOutError);
    expect((await store.loadGraph(g.id)).deltaLink).toBe('link-1');
    await store.saveGraph(g.id, g.mailboxId, { remoteFolderId: 'inbox', deltaLink: 'link-2', mode: 'push' }, theirs);
    expect((await store.loadGraph(g.id)).deltaLink).toBe('link-2');
    // A folder without a row yet: the insert is fenced as well.
    const h = folders[7];
    await queryDatabase(db.url, `DELETE FROM sync_cursors WHERE folder_id = $1`, [h.id]);
    await takenBy('replica-b', h.mailboxId);
    await expect(store.saveGraph(h.id, h.mailboxId, { remoteFolderId: 'inbox', deltaLink: null, mode: 'push', baselineAt: new Date() }, mine)).rejects.toBeInstanceOf(FencedOutError);
    expect(await store.loadGraph(h.id)).toEqual({ remoteFolderId: null, deltaLink: null, lastSyncedAt: null, baselineAt: null });
  });

  it('Graph subscription rows: only the lease holder inserts, renews or removes them; a row already gone is no error', async () => {
    const subscriptions = new GraphSubscriptionRepository(source);
    const k = folders[8];
    const row = { subscriptionId: 'sub-1', folderId: k.id, mailboxId: k.mailboxId, clientStateHash: Buffer.alloc(32), resource: 'me/mailFolders/inbox/messages', expiresAt: new Date(Date.now() + 3600_000) };
    await subscriptions.insert(row, mine);
    const renewedUntil = new Date(Date.now() + 7200_000);
    await subscriptions.renewed('sub-1', renewedUntil, k.mailboxId, mine);
    expect((await subscriptions.forFolder(k.id)).map((s) => s.expiresAt.getTime())).toEqual([renewedUntil.getTime()]);

    const theirs = await takenBy('replica-b', k.mailboxId);
    await expect(subscriptions.insert({ ...row, subscriptionId: 'sub-stale' }, mine)).rejects.toBeInstanceOf(FencedOutError);
    await expect(subscriptions.renewed('sub-1', new Date(), k.mailboxId, mine)).rejects.toBeInstanceOf(FencedOutError);
    await expect(subscriptions.remove('sub-1', k.mailboxId, mine)).rejects.toBeInstanceOf(FencedOutError);
    await subscriptions.notified(['sub-1'], new Date(0), k.mailboxId, mine); // bookkeeping: silently nothing
    const [kept] = await queryDatabase<{ last_notification_at: Date | null }>(db.url, `SELECT last_notification_at FROM graph_subscriptions WHERE subscription_id = 'sub-1'`);
    expect(kept.last_notification_at).toBeNull();
    expect((await subscriptions.forFolder(k.id)).map((s) => s.subscriptionId)).toEqual(['sub-1']);

    await subscriptions.remove('sub-1', k.mailboxId, theirs);
    await subscriptions.remove('sub-1', k.mailboxId, theirs);
    expect(await subscriptions.forFolder(k.id)).toEqual([]);
  });
});
