/** What a successful token request yields, whatever the identity platform. */
export interface TokenGrant {
  accessToken: string;
  /** Lifetime from now; the store turns it into an expiry on its own clock. */
  expiresInMs: number;
  /** The (possibly rotated) refresh token; null for client credentials. */
  refreshToken: string | null;
  /** The client library's serialized cache (msal-node), to restore its account and refresh state. */
  cache: string | null;
  /** The account that signed in (preferred_username / email), when the platform says. */
  username: string | null;
  scopes: string[];
}

export interface TokenSecrets {
  accessToken: string | null;
  refreshToken: string | null;
  cache: string | null;
}
