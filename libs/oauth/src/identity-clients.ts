import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { fetchThrough, outboundAgent, OutboundPolicy } from '@app/outbound';
import type { Agent } from 'undici';
import { GoogleIdentityClient } from './google/google-identity.client';
import { IdentityClient } from './identity-client';
import { MicrosoftIdentityClient } from './microsoft/microsoft-identity.client';
import { MsalNetworkClient } from './microsoft/msal-network-client';
import { OAuthSettings } from './oauth-settings';

/** Picks the identity client for a provider's issuer. */
@Injectable()
export class IdentityClients implements OnModuleDestroy {
  private readonly network: MsalNetworkClient;
  private readonly microsoft: MicrosoftIdentityClient;
  /** Google's client fetches through this Agent (the authority host may point elsewhere, see GoogleIdentityClient). */
  private readonly googleAgent: Agent;
  private readonly google: GoogleIdentityClient;

  constructor(@Inject(APP_CONFIG) config: AppConfig, outbound: OutboundPolicy) {
    this.network = new MsalNetworkClient({ ca: config.oauth.caPem, outbound });
    this.microsoft = new MicrosoftIdentityClient(this.network);
    // No OAUTH_CA_FILE here: a `ca` replaces the system roots, and Google's own endpoints need those.
    this.googleAgent = outboundAgent(outbound);
    this.google = new GoogleIdentityClient(fetchThrough(this.googleAgent));
  }

  for(settings: OAuthSettings): IdentityClient {
    return settings.issuer === 'google' ? this.google : this.microsoft;
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.network.close(), this.googleAgent.close()]);
  }
}
