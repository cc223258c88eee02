import { SecretBox } from '@app/crypto';
import { FailureCode } from '@app/failures';
import { OAuthIssuer, ProviderEntity, secretContext } from '@app/persistence';

/** A provider's OAuth settings with its client secret decrypted: what an identity client needs. */
export interface OAuthSettings {
  providerId: string;
  issuer: OAuthIssuer;
  clientId: string;
  clientSecret: string | null;
  tenant: string;
  authorityHost: string;
  scopes: string[];
  appOnly: boolean;
}

export class OAuthNotConfiguredError extends Error {
  readonly code = FailureCode.OAuthNotConfigured;

  constructor(providerId: string) {
    super(`Provider ${providerId} does not use OAuth 2.0`);
    this.name = 'OAuthNotConfiguredError';
  }
}

export function oauthSettingsOf(provider: ProviderEntity, secrets: SecretBox): OAuthSettings {
  if (provider.authMethod !== 'oauth2' || !provider.oauthClientId) throw new OAuthNotConfiguredError(provider.id);
  return {
    providerId: provider.id,
    issuer: provider.oauthIssuer ?? 'microsoft',
    clientId: provider.oauthClientId,
    clientSecret: provider.oauthClientSecretEncrypted ? secrets.decrypt(provider.oauthClientSecretEncrypted, secretContext.providerClientSecret(provider.id)) : null,
    tenant: provider.oauthTenant ?? 'common',
    authorityHost: provider.oauthAuthorityHost ?? 'https://login.microsoftonline.com',
    scopes: provider.oauthScopes,
    appOnly: provider.oauthAppOnly,
  };
}
