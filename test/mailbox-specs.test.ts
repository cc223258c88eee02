import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions, runMigrations } from '@app/persistence';
import { MailboxSpecRepository, MailboxSpecsLoader } from '@app/sync';
import { createTestDatabase, queryDatabase, TestDatabase } from '@app/testing';

/**
 * What the supervisor reads to decide which runners run, against real Postgres: a mailbox deleted while
 * the specs are read comes back whole or not at all, never without its folders (a runner replaced by one
 * that follows nothing, the old one's Graph subscription left behind).
 */
describe('MailboxSpecsLoader (real Postgres)', () => {
  let db: TestDatabase;
  let source: DataSource;
  let loader: MailboxSpecsLoader;

  beforeAll(async () => {
    db = await createTestDatabase();
    source = await new DataSource(dataSourceOptions(db.url, 4)).initialize();
    await runMigrations(source);
    loader = new MailboxSpecsLoader(new MailboxSpecRepository(source));
  });

  afterAll(async () => {
    await source.destroy();
    await db.drop();
  });

  async function mailboxWithFolders(email: string, paths: string[]): Promise<string> {
    const [{ id: providerId }] = await queryDatabase<{ id: string }>(
      db.url,
      `INSERT INTO providers (name, type, host, port, secure, verify_certificate, load_emails, send_emails, login_format, auth_method)
       VALUES ($1, 'imap', 'imap.test', 993, true, true, true, false, 'email', 'basic') RETURNING id`,
      [`p-${email}`],
    );
    const [{ id }] = await queryDatabase<{ id: string }>(db.url, `INSERT INTO mailboxes (email, provider_id, login, enabled) VALUES ($1, $2, $1, true) RETURNING id`, [email, providerId]);
    await queryDatabase(db.url, `INSERT INTO mailbox_folders (mailbox_id, path, position) SELECT $1, path, position - 1 FROM unnest($2::text[]) WITH ORDINALITY AS f(path, position)`, [id, paths]);
    return id;
  }

  it('reads every enabled mailbox with its folders in their order', async () => {
    const id = await mailboxWithFolders('order@x.test', ['INBOX', 'Archive', 'Sent']);
    const desired = await loader.desired([id]);
    expect(desired.get(id)!.spec.folders.map((folder) => folder.path)).toEqual(['INBOX', 'Archive', 'Sent']);
  });

  it('a mailbox deleted between reading the mailboxes and reading their folders still comes back with its folders', async () => {
    const id = await mailboxWithFolders('torn@x.test', ['INBOX', 'Archive']);
    // The deleting transaction holds mailbox_folders, so the folders read waits right after the mailboxes
    // were read; the delete commits while it waits.
    const deleter = new Client({ connectionString: db.url });
    await deleter.connect();
    try {
      await deleter.query('BEGIN');
      await deleter.query('LOCK TABLE mailbox_folders IN ACCESS EXCLUSIVE MODE');
      const loading = loader.desired();
      await waitForBlockedRead();
      await deleter.query('DELETE FROM mailboxes WHERE id = $1', [id]);
      await deleter.query('COMMIT');
      const spec = (await loading).get(id)?.spec;
      // One snapshot: as before the delete. Read apart, it came back with no folders.
      expect(spec?.folders.map((folder) => folder.path)).toEqual(['INBOX', 'Archive']);
    } finally {
      await deleter.end();
    }
    expect((await loader.desired()).has(id)).toBe(false);
  });

  /** Until a statement of this database waits for a lock on mailbox_folders (the loader's folders read). */
  async function waitForBlockedRead(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const waiting = await queryDatabase<{ n: number }>(
        db.url,
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%FROM mailbox_folders%'`,
      );
      if (waiting[0].n > 0) return;
      if (Date.now() > deadline) throw new Error('the folders read never waited for the lock');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
});
