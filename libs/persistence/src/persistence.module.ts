import { Global, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { dataSourceOptions } from './data-source.options';
import { ENTITIES } from './entities';
import { runMigrations } from './migration-runner';

export class DatabaseNotConfiguredError extends Error {
  constructor() {
    super('DATABASE_URL is not set. `npm start` provides an embedded database; a single app needs DATABASE_URL.');
    this.name = 'DatabaseNotConfiguredError';
  }
}

/**
 * TypeORM on Postgres. Pending migrations are applied at start (under an advisory lock), so a fresh
 * database works and a rolling deploy with several replicas applies each migration once.
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        if (!config.database.url) throw new DatabaseNotConfiguredError();
        return dataSourceOptions(config.database.url, config.database.poolSize, `mail-listener-${process.title}`);
      },
      dataSourceFactory: async (options) => {
        const dataSource = await new DataSource(options!).initialize();
        const applied = await runMigrations(dataSource);
        if (applied.length > 0) new Logger('Persistence').log(`Applied migrations: ${applied.join(', ')}`);
        return dataSource;
      },
    }),
    TypeOrmModule.forFeature(ENTITIES),
  ],
  exports: [TypeOrmModule],
})
export class PersistenceModule implements OnApplicationShutdown {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    // @nestjs/typeorm closes the pool too; this keeps shutdown order explicit and idempotent.
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
