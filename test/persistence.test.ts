import { DataSource } from 'typeorm';
import { dataSourceOptions, MIGRATIONS, migrationsAreCurrent, runMigrations } from '@app/persistence';
import { createTestDatabase, ENTRY_POINTS, queryDatabase, startAppProcess, TestDatabase } from '@app/testing';

describe('persistence: migrations and schema (real Postgres)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('applies every migration exactly once when several processes start at the same time', async () => {
    const sources = await Promise.all([1, 2, 3].map(() => new DataSource(dataSourceOptions(db.url, 2)).initialize()));
    try {
      expect(await migrationsAreCurrent(sources[0])).toBe(false);
      const results = await Promise.all(sources.map((source) => runMigrations(source)));
      expect(results.flat()).toEqual(MIGRATIONS.map((m) => m.name));
      const rows = await queryDatabase<{ name: string }>(db.url, 'SELECT name FROM schema_migrations');
      expect(rows.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => new m().name));
      expect(await migrationsAreCurrent(sources[1])).toBe(true);
    } finally {
      await Promise.all(sources.map((source) => source.destroy()));
    }
  });

  it('every entity column exists in the migrated schema with the same nullability', async () => {
    const source = await new DataSource(dataSourceOptions(db.url, 1)).initialize();
    try {
      const columns = await queryDatabase<{ table_name: string; column_name: string; is_nullable: string }>(
        db.url,
        `SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public'`,
      );
      const problems: string[] = [];
      for (const entity of source.entityMetadatas) {
        for (const column of entity.columns) {
          const found = columns.find((c) => c.table_name === entity.tableName && c.column_name === column.databaseName);
          if (!found) problems.push(`${entity.tableName}.${column.databaseName} missing`);
          else if ((found.is_nullable === 'YES') !== column.isNullable) problems.push(`${entity.tableName}.${column.databaseName} nullability differs`);
        }
      }
      expect(problems).toEqual([]);
      expect(source.entityMetadatas.length).toBeGreaterThanOrEqual(8);
    } finally {
      await source.destroy();
    }
  });

  it('`npm run migrate` applies pending migrations and then reports the database up to date', async () => {
    const fresh = await createTestDatabase();
    try {
      const first = startAppProcess(ENTRY_POINTS.migrate, { DATABASE_URL: fresh.url });
      expect(await first.exited).toBe(0);
      expect(first.output()).toContain(`Applied: ${MIGRATIONS.map((m) => m.name).join(', ')}`);
      const second = startAppProcess(ENTRY_POINTS.migrate, { DATABASE_URL: fresh.url });
      expect(await second.exited).toBe(0);
      expect(second.output()).toContain('Database is up to date.');
      const missing = startAppProcess(ENTRY_POINTS.migrate, {});
      expect(await missing.exited).toBe(78);
      expect(missing.output()).toMatch(/^DATABASE_URL: is required/);
    } finally {
      await fresh.drop();
    }
  });

  it('database constraints back the API rules (defence in depth)', async () => {
    await expect(
      queryDatabase(
        db.url,
        `INSERT INTO providers (name, type, secure, verify_certificate, load_emails, send_emails, login_format, auth_method)
         VALUES ('x', 'imap', true, true, false, false, 'email', 'basic')`,
      ),
    ).rejects.toThrow(/ck_providers_load_or_send/);
  });
});
