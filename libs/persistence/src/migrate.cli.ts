import { DataSource } from 'typeorm';
import { loadConfigOrExit } from '@app/config';
import { dataSourceOptions } from './data-source.options';
import { runMigrations } from './migration-runner';
import { errorMessage } from '@app/failures';

/** `npm run migrate`: apply pending migrations to DATABASE_URL and exit. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  if (!config.database.url) {
    process.stderr.write('DATABASE_URL: is required for `npm run migrate` (example: DATABASE_URL=postgres://mail:secret@db:5432/mail_listener)\n');
    process.exit(78);
  }
  const dataSource = await new DataSource(dataSourceOptions(config.database.url, 1, 'mail-listener-migrate')).initialize();
  try {
    const applied = await runMigrations(dataSource);
    process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Database is up to date.\n');
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`Migration failed: ${errorMessage(error)}\n`);
  process.exit(1);
});
