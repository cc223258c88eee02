import { DataSource } from 'typeorm';
import { dataSourceOptions, runMigrations } from '@app/persistence';
import { FencedOutError, FolderCursorRepository } from '@app/sync';
import { createTestDatabase, queryDatabase, statementsOf, TestDatabase } from '@app/testing';

/** IMAP cursors against real Postgres: the reads and writes of one event-loop turn are one statement each. */
describe('FolderCursorRepository', () => {
  let db: TestDatabase;
  let source: DataSource;
  let store: FolderCursorRepository;
  let folders: { id: string; mailboxId: string }[];

  beforeAll(async () => {
    db = await createTestDatabase();
    source = await new DataSource(dataSourceOptions(db.url, 2)).initialize();
    await runMigrations(source);
    store = new FolderCursorRepository(source);
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
  });

  afterAll(async () => {
    await source.destroy();
    await db.drop();
  });

  it('loads, baselines and advances 30 folders with one statement each', async () => {
    let loaded: Awaited<ReturnType<FolderCursorRepository['load']>>[] = [];
    expect(await statementsOf(source, async () => (loaded = await Promise.all(folders.map((f) => store.load(f.id)))))).toEqual(['SELECT']);
    expect(loaded.every((cursor) => cursor.uidValidity === null && cursor.lastUid === null)).toBe(true);

    expect(await statementsOf(source, () => Promise.all(folders.map((f, i) => store.baseline(f.id, f.mailboxId, 7, 100 + i, 0))))).toEqual(['INSERT']);
    expect(await statementsOf(source, () => Promise.all(folders.map((f) => store.advance(f.id, 7, 500, 0))))).toEqual(['UPDATE']);

    const rows = await queryDatabase<{ last_uid: string }>(db.url, `SELECT last_uid FROM sync_cursors WHERE folder_id = ANY($1::uuid[])`, [folders.map((f) => f.id)]);
    expect(rows.map((row) => Number(row.last_uid))).toEqual(folders.map(() => 500));
    expect(await Promise.all(folders.slice(0, 3).map((f) => store.load(f.id)))).toEqual(folders.slice(0, 3).map(() => ({ uidValidity: 7, lastUid: 500 })));
  });

  it('never moves a cursor backwards, applies two writes of one folder in one turn in order, and keeps fencing per folder', async () => {
    const [a, b, c, d] = folders;
    // c belongs to a newer lease epoch now: this replica's writes to it are refused.
    await queryDatabase(db.url, `UPDATE sync_cursors SET fence_epoch = 5 WHERE folder_id = $1`, [c.id]);
    const results = await Promise.allSettled([
      store.advance(a.id, 7, 400, 0), // behind: stays at 500
      store.advance(a.id, 7, 600, 0), // same folder, same turn: next statement, moves on
      store.advance(b.id, 8, 900, 0), // another UIDVALIDITY by now: not moved, not an error
      store.advance(c.id, 7, 900, 0), // fenced out
      store.baseline(d.id, d.mailboxId, 9, 1, 0),
      store.baseline(d.id, d.mailboxId, 10, 2, 0), // the later baseline of the turn wins
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((results[3] as PromiseRejectedResult).reason).toBeInstanceOf(FencedOutError);
    expect(await store.load(a.id)).toEqual({ uidValidity: 7, lastUid: 600 });
    expect(await store.load(b.id)).toEqual({ uidValidity: 7, lastUid: 500 });
    expect(await store.load(c.id)).toEqual({ uidValidity: 7, lastUid: 500 });
    expect(await store.load(d.id)).toEqual({ uidValidity: 10, lastUid: 2 });
    await expect(store.baseline(c.id, c.mailboxId, 11, 1, 0)).rejects.toBeInstanceOf(FencedOutError);
  });
});
