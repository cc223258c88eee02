import { DynamicModule, Module, ModuleMetadata } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { keyRingFromConfig } from '@app/crypto';
import { ApiKeyMatcher } from '@app/http';
import { MailboxStateModule } from '@app/mailbox-state';
import { TokenStatsRepository } from '@app/oauth';
import { registerQueues } from '@app/queues';
import { SyncMetricsRepository } from '@app/sync';
import { ConsoleMailboxTokenController } from './controllers/mailbox-token.controller';
import { ConsoleClusterController } from './controllers/cluster.controller';
import { ConsoleMailboxesController } from './controllers/mailboxes.controller';
import { ConsoleServicesController } from './controllers/services.controller';
import { OverviewController } from './controllers/overview.controller';
import { SignInController } from './controllers/sign-in.controller';
import { ConsoleWebhooksController } from './controllers/webhooks.controller';
import { QueueBoardService } from './queues/queue-board.service';
import { MailboxActionsService } from './services/mailbox-actions.service';
import { MailboxCreateService } from './services/mailbox-create.service';
import { MailboxListService } from './services/mailbox-list.service';
import { MailboxPageService } from './services/mailbox-page.service';
import { MailboxTokenService } from './services/mailbox-token.service';
import { OverviewService } from './services/overview.service';
import { ProviderAdminService } from './services/provider-admin.service';
import { ProviderUsageRepository } from './services/provider-usage.repository';
import { WebhookEndpointsService } from './services/webhook-endpoints.service';
import { CONSOLE_QUEUES, QueueDepthsService } from './services/queue-depths.service';
import { ConsoleAuth } from './session/console-auth';
import { deriveConsoleKeys } from './session/console-keys';
import { ConsoleSessionGuard } from './session/console-session.guard';

export interface ConsoleModuleOptions {
  /**
   * The API's own module instances (mailboxes, providers, cluster overview, webhooks): the console calls
   * their services in-process, the same instances the API's controllers use.
   */
  imports: NonNullable<ModuleMetadata['imports']>;
  /** The API's key check (the same instance), so the console accepts exactly the keys the API does. */
  apiKeys: () => ApiKeyMatcher;
}

/** The admin console at /console: server-rendered pages over the API's services (see installConsole for its HTTP setup). */
@Module({})
export class ConsoleModule {
  static register(options: ConsoleModuleOptions): DynamicModule {
    return {
      module: ConsoleModule,
      imports: [...options.imports, MailboxStateModule, registerQueues(...CONSOLE_QUEUES)],
      controllers: [SignInController, OverviewController, ConsoleMailboxesController, ConsoleServicesController, ConsoleMailboxTokenController, ConsoleClusterController, ConsoleWebhooksController],
      providers: [
        {
          provide: ConsoleAuth,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) =>
            new ConsoleAuth({
              keys: deriveConsoleKeys(keyRingFromConfig(config).current.material),
              apiKeys: options.apiKeys(),
              secureCookies: config.env !== 'development',
            }),
        },
        ConsoleSessionGuard,
        SyncMetricsRepository,
        TokenStatsRepository,
        QueueDepthsService,
        OverviewService,
        MailboxListService,
        MailboxActionsService,
        ProviderUsageRepository,
        ProviderAdminService,
        MailboxPageService,
        MailboxCreateService,
        MailboxTokenService,
        WebhookEndpointsService,
        QueueBoardService,
      ],
    };
  }
}
