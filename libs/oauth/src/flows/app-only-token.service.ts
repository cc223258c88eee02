import { BadRequestException, ConflictException, Injectable, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SecretBox } from '@app/crypto';
import { ProviderEntity } from '@app/persistence';
import { IdentityClients } from '../identity-clients';
import { OAuthTokenStore } from '../oauth-token.store';
import { oauthSettingsOf } from '../oauth-settings';
import { classifyTokenError } from '../token-errors';
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
    try {
      const grant = await this.clients.for(settings).clientCredentials(settings);
      const result = await this.store.transition(token.id, token.state === 'active' ? 'refreshed' : 'authorization_completed', { grant, newGrant: token.state !== 'active', error: null });
      return tokenStatusOf(result?.token ?? null);
    } catch (error) {
      const classified = classifyTokenError(error);
      if (classified.kind === 'transient') throw new ServiceUnavailableException(`The identity provider could not be reached (${classified.code}); try again`);
      throw new BadRequestException(`The identity provider refused the client credentials: ${classified.message}`);
    }
  }

  async status(providerId: string): Promise<TokenStatus> {
    const token = await this.store.forProvider(providerId);
    return tokenStatusOf(token);
  }
}
