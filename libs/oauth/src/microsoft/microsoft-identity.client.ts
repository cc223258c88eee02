import { Logger } from '@nestjs/common';
import {
  AuthenticationResult,
  ConfidentialClientApplication,
  Configuration,
  DeviceCodeRequest,
  LogLevel,
  PublicClientApplication,
} from '@azure/msal-node';
import { FailureCode } from '@app/failures';
import { AuthorizationRequest, CodeRedemption, DeviceCodeFlow, DeviceCodeIssued, IdentityClient } from '../identity-client';
import { OAuthSettings } from '../oauth-settings';
import { TokenGrant, TokenSecrets } from '../token-grant';
import { packCache, refreshTokenInCache, RowCachePlugin, StoredMsalCache, unpackCache } from './msal-cache';
import { AuthorityMetadataCache } from './authority-metadata.cache';
import { MsalNetworkClient } from './msal-network-client';

type MsalApp = PublicClientApplication | ConfidentialClientApplication;

export class TokenCacheMissingError extends Error {
  readonly code = FailureCode.TokenCacheMissing;

  constructor() {
    super('No signed-in account is stored for this token; sign in again');
    this.name = 'TokenCacheMissingError';
  }
}

/**
 * Microsoft Entra ID through msal-node. One short-lived msal application per operation, its cache
 * loaded from and written back to the token row (RowCachePlugin); the authority is the provider's
 * authority host + tenant, listed as a known authority so sovereign clouds and test servers need no
 * instance discovery.
 */
export class MicrosoftIdentityClient implements IdentityClient {
  private readonly logger = new Logger('Msal');
  private readonly metadata: AuthorityMetadataCache;

  constructor(private readonly network: MsalNetworkClient) {
    this.metadata = new AuthorityMetadataCache(network);
  }

  async startDeviceCode(settings: OAuthSettings): Promise<DeviceCodeFlow> {
    const cache = new RowCachePlugin(null);
    const app = new PublicClientApplication(await this.configuration(settings, cache, false));
    let issued!: (value: DeviceCodeIssued) => void;
    let failedBeforeIssue!: (error: unknown) => void;
    const issuedPromise = new Promise<DeviceCodeIssued>((resolve, reject) => {
      issued = resolve;
      failedBeforeIssue = reject;
    });
    const request: DeviceCodeRequest = {
      scopes: settings.scopes,
      deviceCodeCallback: (response) =>
        issued({
          userCode: response.userCode,
          verificationUri: response.verificationUri,
          expiresAt: new Date(Date.now() + response.expiresIn * 1000),
          interval: response.interval,
          message: response.message,
        }),
    };
    const completion = app.acquireTokenByDeviceCode(request).then((result) => this.grantOf(settings, result, cache, 'public'));
    completion.catch(failedBeforeIssue);
    return {
      issued: await issuedPromise,
      completion,
      cancel: () => {
        // msal checks this flag between polls.
        request.cancel = true;
      },
    };
  }

  async authorizationUrl(settings: OAuthSettings, request: AuthorizationRequest): Promise<string> {
    const app = await this.application(settings, new RowCachePlugin(null));
    return app.getAuthCodeUrl({
      scopes: settings.scopes,
      redirectUri: request.redirectUri,
      state: request.state,
      nonce: request.nonce,
      codeChallenge: request.codeChallenge,
      codeChallengeMethod: 'S256',
      // Entra refuses prompt=select_account together with an account hint: the hint wins.
      loginHint: request.loginHint,
      responseMode: 'query',
    });
  }

  async redeemCode(settings: OAuthSettings, redemption: CodeRedemption): Promise<TokenGrant> {
    const cache = new RowCachePlugin(null);
    const app = await this.application(settings, cache);
    const result = await app.acquireTokenByCode(
      {
        code: redemption.code,
        scopes: settings.scopes,
        redirectUri: redemption.redirectUri,
        codeVerifier: redemption.codeVerifier,
        state: redemption.state,
        nonce: redemption.nonce,
      },
      { code: redemption.code, state: redemption.state, nonce: redemption.nonce },
    );
    return this.grantOf(settings, result, cache, this.clientKind(settings));
  }

  async redeemRefreshToken(settings: OAuthSettings, refreshToken: string): Promise<TokenGrant> {
    const cache = new RowCachePlugin(null);
    const app = await this.application(settings, cache);
    // forceCache: without it msal does not keep an imported refresh token in its cache.
    const result = await app.acquireTokenByRefreshToken({ refreshToken, scopes: settings.scopes, forceCache: true });
    if (!result) throw new Error('The identity provider returned no token');
    return this.grantOf(settings, result, cache, this.clientKind(settings));
  }

  async refresh(settings: OAuthSettings, secrets: TokenSecrets): Promise<TokenGrant> {
    const stored = unpackCache(secrets.cache);
    if (!stored) {
      if (secrets.refreshToken) return this.redeemRefreshToken(settings, secrets.refreshToken);
      throw new TokenCacheMissingError();
    }
    const cache = new RowCachePlugin(stored.msal);
    const app = stored.client === 'public' ? new PublicClientApplication(await this.configuration(settings, cache, false)) : await this.application(settings, cache);
    const [account] = await app.getTokenCache().getAllAccounts();
    if (!account) throw new TokenCacheMissingError();
    const result = await app.acquireTokenSilent({ account, scopes: settings.scopes, forceRefresh: true });
    return this.grantOf(settings, result, cache, stored.client);
  }

  async clientCredentials(settings: OAuthSettings): Promise<TokenGrant> {
    if (!settings.clientSecret) throw new Error('Client credentials need the provider client secret');
    const app = new ConfidentialClientApplication(await this.configuration(settings, new RowCachePlugin(null), true));
    const result = await app.acquireTokenByClientCredential({ scopes: settings.scopes, skipCache: true });
    if (!result) throw new Error('The identity provider returned no token');
    return { accessToken: result.accessToken, expiresInMs: this.lifetimeOf(result), refreshToken: null, cache: null, username: null, scopes: result.scopes };
  }

  private clientKind(settings: OAuthSettings): StoredMsalCache['client'] {
    return settings.clientSecret ? 'confidential' : 'public';
  }

  private async application(settings: OAuthSettings, cache: RowCachePlugin): Promise<MsalApp> {
    return settings.clientSecret
      ? new ConfidentialClientApplication(await this.configuration(settings, cache, true))
      : new PublicClientApplication(await this.configuration(settings, cache, false));
  }

  private async configuration(settings: OAuthSettings, cache: RowCachePlugin, withSecret: boolean): Promise<Configuration> {
    const authority = `${settings.authorityHost}/${settings.tenant}`;
    return {
      auth: {
        clientId: settings.clientId,
        authority,
        knownAuthorities: [new URL(settings.authorityHost).host],
        authorityMetadata: await this.metadata.get(authority),
        ...(withSecret && settings.clientSecret ? { clientSecret: settings.clientSecret } : {}),
      },
      cache: { cachePlugin: cache },
      system: {
        networkClient: this.network,
        loggerOptions: {
          piiLoggingEnabled: false,
          logLevel: LogLevel.Warning,
          loggerCallback: (level, message) => {
            if (level <= LogLevel.Warning) this.logger.warn(message);
          },
        },
      },
    };
  }

  private grantOf(settings: OAuthSettings, result: AuthenticationResult | null, cache: RowCachePlugin, client: StoredMsalCache['client']): TokenGrant {
    if (!result) throw new Error('The identity provider returned no token');
    return {
      accessToken: result.accessToken,
      expiresInMs: this.lifetimeOf(result),
      refreshToken: refreshTokenInCache(cache.serialized),
      cache: packCache(client, cache.serialized),
      username: result.account?.username ?? null,
      scopes: result.scopes.length ? result.scopes : settings.scopes,
    };
  }

  /** msal dates the expiry on the real clock; keep only the lifetime that is left. */
  private lifetimeOf(result: AuthenticationResult): number {
    return result.expiresOn ? Math.max(0, result.expiresOn.getTime() - Date.now()) : 3600_000;
  }
}
