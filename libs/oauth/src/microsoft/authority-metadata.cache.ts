import { MsalNetworkClient } from './msal-network-client';

const TTL_MS = 24 * 3600_000;

/**
 * OpenID metadata per authority, fetched once a day instead of by every short-lived msal application
 * (msal-node would fetch it on each refresh otherwise: one extra round trip to Entra ID per token).
 * Handed to msal as `authorityMetadata`.
 */
export class AuthorityMetadataCache {
  private readonly entries = new Map<string, { json: string; fetchedAt: number }>();
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(private readonly network: MsalNetworkClient) {}

  async get(authority: string): Promise<string> {
    const cached = this.entries.get(authority);
    if (cached && Date.now() - cached.fetchedAt < TTL_MS) return cached.json;
    const pending = this.inFlight.get(authority) ?? this.fetch(authority).finally(() => this.inFlight.delete(authority));
    this.inFlight.set(authority, pending);
    return pending;
  }

  private async fetch(authority: string): Promise<string> {
    const response = await this.network.sendGetRequestAsync<Record<string, unknown>>(`${authority}/v2.0/.well-known/openid-configuration`);
    if (response.status !== 200 || typeof response.body !== 'object' || !response.body.token_endpoint) {
      throw Object.assign(new Error(`OpenID metadata of ${authority} unavailable (HTTP ${response.status})`), { status: response.status >= 500 ? response.status : 503 });
    }
    const json = JSON.stringify(response.body);
    this.entries.set(authority, { json, fetchedAt: Date.now() });
    return json;
  }
}
