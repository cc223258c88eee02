import { Credentials, OAuth2Client } from 'google-auth-library';
import { AuthorizationRequest, CodeRedemption, DeviceCodeFlow, IdentityClient, UnsupportedFlowError } from '../identity-client';
import { OAuthSettings } from '../oauth-settings';
import { TokenGrant, TokenSecrets } from '../token-grant';

const GOOGLE_ACCOUNTS_HOSTS = ['accounts.google.com', 'oauth2.googleapis.com'];

/** Google's endpoints, or the same paths under the provider's authority host (a test server). */
function endpointsOf(settings: OAuthSettings): { oauth2AuthBaseUrl: string; oauth2TokenUrl: string } | undefined {
  if (GOOGLE_ACCOUNTS_HOSTS.includes(new URL(settings.authorityHost).hostname)) return undefined;
  return { oauth2AuthBaseUrl: `${settings.authorityHost}/o/oauth2/v2/auth`, oauth2TokenUrl: `${settings.authorityHost}/token` };
}

function emailInIdToken(idToken: string | null | undefined): string | null {
  if (!idToken) return null;
  try {
    const payload = JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString('utf8')) as { email?: string };
    return payload.email ?? null;
  } catch {
    return null;
  }
}

/**
 * Gmail through google-auth-library: authorization code with PKCE, refresh, import. Requests go through
 * `fetchImpl` (the outbound policy's Agent in the service): the authority host is configurable.
 */
export class GoogleIdentityClient implements IdentityClient {
  constructor(private readonly fetchImpl: typeof fetch = fetch) {}

  async startDeviceCode(): Promise<DeviceCodeFlow> {
    throw new UnsupportedFlowError('Google does not allow the Gmail scope in the device flow: use the authorization link (GET /v1/mailboxes/:id/oauth/authorize)');
  }

  async authorizationUrl(settings: OAuthSettings, request: AuthorizationRequest): Promise<string> {
    return this.client(settings, request.redirectUri).generateAuthUrl({
      access_type: 'offline',
      prompt: 'consent',
      scope: [...new Set([...settings.scopes, 'openid', 'email'])],
      state: request.state,
      login_hint: request.loginHint,
      code_challenge: request.codeChallenge,
      code_challenge_method: 'S256' as never,
      include_granted_scopes: true,
    });
  }

  async redeemCode(settings: OAuthSettings, redemption: CodeRedemption): Promise<TokenGrant> {
    const { tokens } = await this.client(settings, redemption.redirectUri).getToken({ code: redemption.code, codeVerifier: redemption.codeVerifier, redirect_uri: redemption.redirectUri });
    return this.grantOf(settings, tokens, null);
  }

  async redeemRefreshToken(settings: OAuthSettings, refreshToken: string): Promise<TokenGrant> {
    return this.refresh(settings, { refreshToken, accessToken: null, cache: null });
  }

  async refresh(settings: OAuthSettings, secrets: TokenSecrets): Promise<TokenGrant> {
    if (!secrets.refreshToken) throw new Error('No refresh token is stored for this mailbox');
    const client = this.client(settings);
    client.setCredentials({ refresh_token: secrets.refreshToken });
    const { credentials } = await client.refreshAccessToken();
    return this.grantOf(settings, credentials, secrets.refreshToken);
  }

  async clientCredentials(): Promise<TokenGrant> {
    throw new UnsupportedFlowError('Google has no client-credentials grant for Gmail; use per-mailbox sign-in');
  }

  private client(settings: OAuthSettings, redirectUri?: string): OAuth2Client {
    return new OAuth2Client({
      clientId: settings.clientId,
      clientSecret: settings.clientSecret ?? undefined,
      redirectUri,
      endpoints: endpointsOf(settings),
      // A fetch of our own: gaxios would otherwise load its HTTP client through a dynamic import.
      transporterOptions: { fetchImplementation: this.fetchImpl },
    });
  }

  private grantOf(settings: OAuthSettings, tokens: Credentials, previousRefreshToken: string | null): TokenGrant {
    if (!tokens.access_token) throw new Error('Google returned no access token');
    return {
      accessToken: tokens.access_token,
      expiresInMs: tokens.expiry_date ? Math.max(0, tokens.expiry_date - Date.now()) : 3599_000,
      // Google keeps the same refresh token on refresh unless it sends a new one.
      refreshToken: tokens.refresh_token ?? previousRefreshToken,
      cache: null,
      username: emailInIdToken(tokens.id_token),
      scopes: tokens.scope ? tokens.scope.split(' ') : settings.scopes,
    };
  }
}
