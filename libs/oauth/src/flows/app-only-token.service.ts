import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SecretBox } from '@app/crypto';
import { ProviderEntity } from '@app/persistence';
import { IdentityClients } from '../identity-clients';
import { OAuthTokenStore } from '../oauth-token.store';
import { oauthSettingsOf } from '../oauth-settings';
import { refusalOrUnreachable } from '../identity-unreachable';
import { TokenStatus, tokenStatusOf } from '../token-status';

/**
 * App-only tokens (client credentials) of providers an operator set up for a whole tenant: one token per
 * provider, acquired here (and renewed by the refresher like any other token).
 */
@Injectable()
export class AppOnlyTokenService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clients: IdentityClients,
    private readonly store: OAuthTokenStore,
    private readonly secrets: SecretBox,
  ) {}

  async acquire(providerId: string): Promise<TokenStatus> {
    const provider = await this.dataSource.getRepository(ProviderEntity).findOneBy({ id: providerId });
    if (!provider) throw new NotFoundException(`Provider ${providerId} not found`);
    if (provider.authMethod !== 'oauth2' || !provider.oauthAppOnly) {
      throw new ConflictException(`Provider "${provider.name}" is not configured for app-only access (oauth.appOnly)`);
    }
    const settings = oauthSettingsOf(provider, this.secrets);
    const token = await this.store.forProvider(provider.id);
    let grant;
    try {
      grant = await this.clients.for(settings).clientCredentials(settings);
    } catch (error) {
      const refusal = refusalOrUnreachable(error);
      throw new BadRequestException(`The identity provider refused the client credentials: ${refusal.message}`);
    }
    const result = await this.store.transition(token.id, token.state === 'active' ? 'refreshed' : 'authorization_completed', { grant, newGrant: token.state !== 'active', error: null });
    return tokenStatusOf(result?.token ?? null);
  }

  async status(providerId: string): Promise<TokenStatus> {
    const token = await this.store.forProvider(providerId);
    return tokenStatusOf(token);
  }
}
