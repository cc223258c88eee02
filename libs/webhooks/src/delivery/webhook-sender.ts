import { Agent, request } from 'undici';
import { OutboundPolicy, outboundAgent, outboundRefusalOf } from '@app/outbound';
import { RETRY_AFTER_STATUSES, retryAfterMs } from './retry-after';

/** What one POST to an endpoint came to. */
export type SendOutcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'gone'; status: 410; error: string }
  /** `retryAfterMs`: a 429 or 503 said when to come back (its `Retry-After`). */
  | { kind: 'failed'; status: number | null; error: string; retryAfterMs?: number }
  | { kind: 'refused'; status: null; error: string };

export interface SignedRequest {
  url: string;
  id: string;
  timestamp: number;
  signature: string;
  body: string;
}

/**
 * POSTs signed events through one undici Agent whose every connection passes the outbound policy (checked
 * on the address the socket is about to use, so DNS rebinding does not get around it). Keep-alive pools per
 * endpoint origin; redirects are never followed (undici's `request` follows none): a 3xx is a failed attempt.
 */
export class WebhookSender {
  private readonly agent: Agent;

  constructor(
    policy: OutboundPolicy,
    private readonly timeoutMs: number,
  ) {
    this.agent = outboundAgent(policy, { connectTimeoutMs: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, keepAliveTimeout: 30_000 });
  }

  async send(signed: SignedRequest): Promise<SendOutcome> {
    // The whole attempt (connect, answer, its body) within the timeout. A timer cleared when the attempt
    // ends, rather than AbortSignal.timeout: that one's timer, WeakRef and finalization entry outlive the
    // attempt by the full 10 s, so at a thousand attempts a second they are promoted and swept by full GCs.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new DOMException(`no answer within ${this.timeoutMs} ms`, 'TimeoutError')), this.timeoutMs);
    try {
      const response = await request(signed.url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'mail-listener-webhooks/1',
          'webhook-id': signed.id,
          'webhook-timestamp': String(signed.timestamp),
          'webhook-signature': signed.signature,
        },
        body: signed.body,
        signal: deadline.signal,
      });
      // The answer's body is not used; reading it (bounded) lets the connection be reused.
      await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      const status = response.statusCode;
      if (status >= 200 && status < 300) return { kind: 'delivered', status };
      if (status === 410) return { kind: 'gone', status, error: 'HTTP 410 Gone: the endpoint asked to stop deliveries' };
      if (status >= 300 && status < 400) {
        const location = response.headers.location;
        return { kind: 'failed', status, error: `HTTP ${status} redirect${location ? ` to ${String(location)}` : ''} not followed (redirects are not followed: register the final URL)` };
      }
      const retryAfter = RETRY_AFTER_STATUSES.has(status) ? retryAfterMs(response.headers['retry-after'], Date.now()) : null;
      return retryAfter === null ? { kind: 'failed', status, error: `HTTP ${status}` } : { kind: 'failed', status, error: `HTTP ${status}`, retryAfterMs: retryAfter };
    } catch (error) {
      const refused = outboundRefusalOf(error);
      if (refused) return { kind: 'refused', status: null, error: refused.message };
      return { kind: 'failed', status: null, error: describeFailure(error, this.timeoutMs) };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for the requests in flight; `force`: aborts them. */
  close(force = false): Promise<void> {
    return force ? this.agent.destroy() : this.agent.close();
  }
}

function describeFailure(error: unknown, timeoutMs: number): string {
  const failure = error as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (failure?.name === 'TimeoutError' || failure?.name === 'AbortError' || failure?.code === 'UND_ERR_HEADERS_TIMEOUT' || failure?.code === 'UND_ERR_BODY_TIMEOUT' || failure?.code === 'UND_ERR_CONNECT_TIMEOUT') {
    return `no answer within ${timeoutMs} ms`;
  }
  const code = failure?.code ?? failure?.cause?.code;
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE') return `connection closed before an answer (${code})`;
  if (code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host did not resolve (${code})`;
  return `request failed: ${code ? `${code} ` : ''}${failure?.message ?? String(error)}`;
}
