import { OAuthSettings } from './oauth-settings';
import { TokenGrant, TokenSecrets } from './token-grant';

export interface DeviceCodeIssued {
  userCode: string;
  verificationUri: string;
  expiresAt: Date;
  /** Seconds between polls, as the identity provider asked. */
  interval: number;
  message: string;
}

export interface DeviceCodeFlow {
  issued: DeviceCodeIssued;
  /** Settles when the user signs in (grant), declines or the code expires (rejects). */
  completion: Promise<TokenGrant>;
  cancel(): void;
}

export interface AuthorizationRequest {
  redirectUri: string;
  state: string;
  nonce: string;
  codeChallenge: string;
  loginHint: string;
}

export interface CodeRedemption {
  code: string;
  codeVerifier: string;
  redirectUri: string;
  state: string;
  nonce: string;
}

/** One identity platform (Microsoft Entra ID through msal-node, Google through google-auth-library). */
export interface IdentityClient {
  startDeviceCode(settings: OAuthSettings): Promise<DeviceCodeFlow>;
  authorizationUrl(settings: OAuthSettings, request: AuthorizationRequest): Promise<string>;
  redeemCode(settings: OAuthSettings, redemption: CodeRedemption): Promise<TokenGrant>;
  /** Import: exchange a refresh token the CRM already holds (validates it and loads the client cache). */
  redeemRefreshToken(settings: OAuthSettings, refreshToken: string): Promise<TokenGrant>;
  /** Renew the stored grant; the result may carry a rotated refresh token. */
  refresh(settings: OAuthSettings, secrets: TokenSecrets): Promise<TokenGrant>;
  /** App-only token (client credentials). */
  clientCredentials(settings: OAuthSettings): Promise<TokenGrant>;
}

/** A flow the platform does not offer (e.g. device code for Gmail's mail scope). */
export class UnsupportedFlowError extends Error {
  readonly code = 'UNSUPPORTED_FLOW';

  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedFlowError';
  }
}
