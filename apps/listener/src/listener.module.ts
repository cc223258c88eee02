import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AppConfig, ConfigModule } from '@app/config';
import { CryptoModule } from '@app/crypto';
import { HealthModule } from '@app/health';
import { HttpExceptionFilter } from '@app/http';
import { LoggingModule } from '@app/logging';
import { MetricsModule } from '@app/metrics';
import { OAuthModuleOptions, OAuthRefreshModule } from '@app/oauth';
import { PersistenceModule } from '@app/persistence';
import { RedisModule } from '@app/redis';

/**
 * The listener worker: refreshes OAuth tokens ahead of expiry and (later issues) owns mailboxes through
 * IMAP IDLE sessions and Graph subscriptions. Serves /health and /metrics on LISTENER_PORT.
 */
@Module({})
export class ListenerModule {
  static forRoot(config: AppConfig, options: OAuthModuleOptions = {}): DynamicModule {
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
        OAuthRefreshModule.forRoot(options),
      ],
      providers: [{ provide: APP_FILTER, useClass: HttpExceptionFilter }],
    };
  }
}
