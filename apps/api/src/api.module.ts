import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { ClusterOverviewModule } from '@app/cluster';
import { AppConfig, ConfigModule } from '@app/config';
import { ConsoleModule } from '@app/console';
import { ControlModule } from '@app/control';
import { CryptoModule } from '@app/crypto';
import { EventOutboxMetricsModule } from '@app/events';
import { GraphIntakeModule } from '@app/graph';
import { HealthModule } from '@app/health';
import { ApiKeyGuard, ApiKeyMatcher, effectiveApiKeys, HttpExceptionFilter, StrictValidationPipe } from '@app/http';
import { LoggingModule } from '@app/logging';
import { MailboxesModule } from '@app/mailboxes';
import { MessagesModule } from '@app/messages';
import { MetricsModule } from '@app/metrics';
import { OAuthFlowsModule, OAuthModuleOptions } from '@app/oauth';
import { PersistenceModule } from '@app/persistence';
import { ProvidersModule } from '@app/providers';
import { RedisModule } from '@app/redis';
import { OutboxController, SendingModule } from '@app/sending';
import { WebhooksModule } from '@app/webhooks';
import { ClusterController } from './controllers/cluster.controller';
import { GraphNotificationsController } from './controllers/graph-notifications.controller';
import { MailboxesController } from './controllers/mailboxes.controller';
import { MessagesController } from './controllers/messages.controller';
import { OAuthController } from './controllers/oauth.controller';
import { ProvidersController } from './controllers/providers.controller';
import { WebhooksController } from './controllers/webhooks.controller';

/** HTTP API: wires the domain modules to controllers; no logic of its own. */
@Module({})
export class ApiModule {
  static forRoot(config: AppConfig, options: OAuthModuleOptions = {}): DynamicModule {
    // One instance each, shared by the API's controllers and the console's (same services, same state).
    // The key check is built when Nest first asks for it (its warning about the dev key file goes to the app's logger).
    let matcher: ApiKeyMatcher | undefined;
    const apiKeys = () => (matcher ??= new ApiKeyMatcher(effectiveApiKeys(config)));
    const webhooks = WebhooksModule.forRoot({ clock: options.clock });
    const oauthFlows = OAuthFlowsModule.forRoot(options);
    return {
      module: ApiModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config, 'mail-listener-api'),
        PersistenceModule,
        RedisModule,
        ControlModule.forRoot(config),
        CryptoModule,
        MetricsModule.forRoot('api'),
        HealthModule,
        ProvidersModule,
        MailboxesModule,
        MessagesModule.forRoot({ clock: options.clock }),
        ClusterOverviewModule,
        EventOutboxMetricsModule,
        oauthFlows,
        GraphIntakeModule.forRoot(),
        webhooks,
        SendingModule,
        ConsoleModule.register({ imports: [ProvidersModule, MailboxesModule, ClusterOverviewModule, webhooks, oauthFlows], apiKeys }),
      ],
      controllers: [ProvidersController, MailboxesController, MessagesController, ClusterController, OAuthController, GraphNotificationsController, WebhooksController, OutboxController],
      providers: [
        { provide: ApiKeyMatcher, useFactory: apiKeys },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_PIPE, useClass: StrictValidationPipe },
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
      ],
    };
  }
}
