import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
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
  private readonly google = new GoogleIdentityClient();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.network = new MsalNetworkClient({ ca: config.oauth.caPem });
    this.microsoft = new MicrosoftIdentityClient(this.network);
  }

  for(settings: OAuthSettings): IdentityClient {
    return settings.issuer === 'google' ? this.google : this.microsoft;
  }

  async onModuleDestroy(): Promise<void> {
    await this.network.close();
  }
}
