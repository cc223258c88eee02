import type { ICachePlugin, TokenCacheContext } from '@azure/msal-node';

/**
 * msal-node's cache held in memory for one token row: loaded from the row (decrypted) before an
 * operation and read back after it, so the row — not a process — is where the grant lives and any
 * replica can continue it.
 */
export class RowCachePlugin implements ICachePlugin {
  constructor(public serialized: string | null) {}

  async beforeCacheAccess(context: TokenCacheContext): Promise<void> {
    if (this.serialized) context.tokenCache.deserialize(this.serialized);
  }

  async afterCacheAccess(context: TokenCacheContext): Promise<void> {
    if (context.cacheHasChanged) this.serialized = context.tokenCache.serialize();
  }
}

/** The refresh token msal keeps in its serialized cache (the newest, if rotation left several). */
export function refreshTokenInCache(serialized: string | null): string | null {
  if (!serialized) return null;
  const cache = JSON.parse(serialized) as { RefreshToken?: Record<string, { secret?: string; cached_at?: string }> };
  const entries = Object.values(cache.RefreshToken ?? {}).filter((entry) => entry.secret);
  entries.sort((a, b) => Number(b.cached_at ?? 0) - Number(a.cached_at ?? 0));
  return entries[0]?.secret ?? null;
}

/** What we persist as the token's cache: msal's cache plus which kind of client obtained the grant. */
export interface StoredMsalCache {
  /** A grant from a public-client flow (device code) must be refreshed without the client secret. */
  client: 'public' | 'confidential';
  msal: string;
}

export function packCache(client: StoredMsalCache['client'], msal: string | null): string | null {
  return msal ? JSON.stringify({ client, msal } satisfies StoredMsalCache) : null;
}

export function unpackCache(stored: string | null): StoredMsalCache | null {
  return stored ? (JSON.parse(stored) as StoredMsalCache) : null;
}
