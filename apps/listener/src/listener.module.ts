import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ClusterModule } from '@app/cluster';
import { AppConfig, ConfigModule } from '@app/config';
import { mailboxControlPattern } from '@app/control';
import { CryptoModule } from '@app/crypto';
import { HealthModule } from '@app/health';
import { HttpExceptionFilter } from '@app/http';
import { LoggingModule } from '@app/logging';
import { MetricsModule } from '@app/metrics';
import { OAuthModuleOptions, OAuthRefreshModule } from '@app/oauth';
import { PersistenceModule } from '@app/persistence';
import { RedisModule } from '@app/redis';
import { SendWorkerModule } from '@app/sending';
import { SyncModule } from '@app/sync';
import { WebhookDeliveryModule } from '@app/webhooks';
import { mailboxControlController } from './mailbox-control.controller';

/**
 * The listener worker: holds an IMAP IDLE session per mailbox folder and publishes new mail
 * (SyncModule), refreshes OAuth tokens ahead of expiry (OAuthRefreshModule), delivers webhooks
 * (WebhookDeliveryModule), sends mail queued on `mail-send` (SendWorkerModule). Serves /health and
 * /metrics on LISTENER_PORT.
 */
@Module({})
export class ListenerModule {
  static forRoot(config: AppConfig, options: OAuthModuleOptions = {}): DynamicModule {
    return {
      module: ListenerModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config, 'mail-listener-listener', { httpRequests: false, replicaId: config.listener.id }),
        PersistenceModule,
        RedisModule,
        CryptoModule,
        MetricsModule.forRoot('listener'),
        HealthModule,
        ClusterModule.forReplica(),
        OAuthRefreshModule.forRoot(options),
        SyncModule,
        WebhookDeliveryModule.forRoot(config, { clock: options.clock }),
        SendWorkerModule.forRoot(config),
      ],
      // Control messages from the API (Redis transport, connected in createListenerApp).
      controllers: [mailboxControlController(mailboxControlPattern(config.queuePrefix))],
      providers: [{ provide: APP_FILTER, useClass: HttpExceptionFilter }],
    };
  }
}
