import { DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/** One place that turns a connection string into TypeORM options: apps, CLI and tests all use it. */
export function dataSourceOptions(url: string, poolSize = 10, applicationName = 'mail-listener'): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    // Schema changes happen only through migrations, under an advisory lock (see MigrationRunner).
    synchronize: false,
    migrationsRun: false,
    logging: false,
    applicationName,
    // A burst (thousands of mailboxes reconnecting) queues for the pool; give the queue time before failing.
    extra: { max: poolSize, connectionTimeoutMillis: 30_000, idleTimeoutMillis: 30_000 },
  };
}
