import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { Agent, request } from 'undici';

/**
 * msal-node's HTTP client, replaced so that identity endpoints can be trusted through an extra CA
 * (OAUTH_CA_FILE: a TLS-inspecting proxy, a sovereign-cloud mirror, the test identity server) and so
 * every call has a timeout. msal only calls GET (metadata) and POST (token endpoints).
 */
export class MsalNetworkClient implements INetworkModule {
  private readonly dispatcher: Agent;

  constructor(options: { ca?: string | Buffer; timeoutMs?: number } = {}) {
    const timeout = options.timeoutMs ?? 15_000;
    this.dispatcher = new Agent({ connect: { ca: options.ca, timeout }, headersTimeout: timeout, bodyTimeout: timeout });
  }

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options);
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async send<T>(method: 'GET' | 'POST', url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    const response = await request(url, {
      method,
      headers: options?.headers,
      body: method === 'POST' ? (options?.body ?? '') : undefined,
      dispatcher: this.dispatcher,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    const text = await response.body.text();
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      // msal turns a non-JSON body into its own error; keep the text for it.
    }
    return { headers, body: body as T, status: response.statusCode };
  }
}
