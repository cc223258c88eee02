import { DataSource, MigrationExecutor } from 'typeorm';

/** Arbitrary constant shared by every process of this service: "mail-listener migrations". */
const MIGRATION_LOCK_KEY = 727_001;

/**
 * Applies pending migrations while holding a Postgres advisory lock, so an API and any number of
 * listener replicas starting at once apply each migration exactly once. Returns the names applied.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      // Same connection as the lock, so this works with a pool of one (CLI, embedded database).
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      const applied = await executor.executePendingMigrations();
      return applied.map((migration) => migration.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}

/** True when every migration this build knows about is applied (readiness check). */
export async function migrationsAreCurrent(dataSource: DataSource): Promise<boolean> {
  return !(await dataSource.showMigrations());
}
