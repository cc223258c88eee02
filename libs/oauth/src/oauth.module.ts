import { DynamicModule, Module } from '@nestjs/common';
import { EventOutboxModule } from '@app/events';
import { OutboundModule } from '@app/outbound';
import { Clock, CLOCK, systemClock } from '@app/clock';
import { AppOnlyTokenService } from './flows/app-only-token.service';
import { AuthorizationCodeFlowService } from './flows/authorization-code.flow';
import { DeviceCodeFlowService } from './flows/device-code.flow';
import { TokenImportService } from './flows/token-import.service';
import { IdentityClients } from './identity-clients';
import { OAuthMailboxContextLoader } from './oauth-mailbox.context';
import { OAuthMetrics } from './oauth.metrics';
import { OAuthTokenStore } from './oauth-token.store';
import { TokenRefreshScheduler } from './refresh/token-refresh.scheduler';
import { TokenRefresher } from './refresh/token-refresher';
import { TokenStatsRepository } from './token-stats.repository';

export interface OAuthModuleOptions {
  /** Tests and benchmarks pass an accelerated clock. */
  clock?: Clock;
}

const CORE = [OAuthTokenStore, IdentityClients, OAuthMailboxContextLoader];

/** Sign-in flows, token import and app-only tokens: what the API serves. */
@Module({})
export class OAuthFlowsModule {
  static forRoot(options: OAuthModuleOptions = {}): DynamicModule {
    const providers = [...CORE, DeviceCodeFlowService, AuthorizationCodeFlowService, TokenImportService, AppOnlyTokenService];
    return {
      module: OAuthFlowsModule,
      imports: [OutboundModule],
      providers: [{ provide: CLOCK, useValue: options.clock ?? systemClock }, ...providers],
      exports: [CLOCK, ...providers],
    };
  }
}

/** Proactive refresh, token metrics and `mailbox.auth_failed` events: what the listener runs. */
@Module({})
export class OAuthRefreshModule {
  static forRoot(options: OAuthModuleOptions = {}): DynamicModule {
    const providers = [...CORE, TokenStatsRepository, OAuthMetrics, TokenRefresher, TokenRefreshScheduler];
    return {
      module: OAuthRefreshModule,
      // Global: the sync runtime uses the token store, the refresher and the clock.
      global: true,
      imports: [EventOutboxModule, OutboundModule],
      providers: [{ provide: CLOCK, useValue: options.clock ?? systemClock }, ...providers],
      exports: [CLOCK, ...providers],
    };
  }
}
