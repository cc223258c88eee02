import { AuthError, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node';
import { Agent, request } from 'undici';
import { FailureCode } from '@app/failures';
import { outboundAgent, OutboundPolicy, outboundRefusalOf } from '@app/outbound';

/**
 * msal-node's HTTP client, replaced so that identity endpoints can be trusted through an extra CA
 * (OAUTH_CA_FILE: a TLS-inspecting proxy, a sovereign-cloud mirror, the test identity server), so every
 * call has a timeout, and so every connection passes the outbound policy (the authority host is
 * configured by API clients). msal only calls GET (metadata) and POST (token endpoints).
 */
export class MsalNetworkClient implements INetworkModule {
  private readonly dispatcher: Agent;

  constructor(options: { ca?: string | Buffer; timeoutMs?: number; outbound: OutboundPolicy }) {
    const timeout = options.timeoutMs ?? 15_000;
    this.dispatcher = outboundAgent(options.outbound, { ca: options.ca, connectTimeoutMs: timeout, headersTimeout: timeout, bodyTimeout: timeout });
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
    }).catch((error: unknown) => {
      const refusal = outboundRefusalOf(error);
      if (!refusal) throw error;
      // msal turns any error that is not its own into a bare "network_error": keep the refusal's code and words.
      throw Object.assign(new AuthError(FailureCode.OutboundAddressRefused.toLowerCase(), refusal.message), { cause: refusal });
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
