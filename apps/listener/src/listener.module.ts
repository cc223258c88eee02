import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AppConfig, ConfigModule } from '@app/config';
import { CryptoModule } from '@app/crypto';
import { HealthModule } from '@app/health';
import { HttpExceptionFilter } from '@app/http';
import { LoggingModule } from '@app/logging';
import { MetricsModule } from '@app/metrics';
import { PersistenceModule } from '@app/persistence';
import { RedisModule } from '@app/redis';

/**
 * The listener worker. It owns mailboxes (IMAP IDLE, Graph subscriptions) in later issues; here it
 * connects to Postgres and Redis and serves /health and /metrics on LISTENER_PORT.
 */
@Module({})
export class ListenerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ListenerModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config, 'mail-listener-listener'),
        PersistenceModule,
        RedisModule,
        CryptoModule,
        MetricsModule.forRoot('listener'),
        HealthModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: HttpExceptionFilter }],
    };
  }
}
