import { Client, ResponseType } from '@microsoft/microsoft-graph-client';
import type { Agent } from 'undici';
import { Backoff, backoffDelay, ConcurrencyLimit, concurrencyLimit } from '@app/async';
import { GraphErrorCode } from '@app/failures';
import { fetchThrough, outboundAgent, OutboundPolicy } from '@app/outbound';
import { GraphApiError } from './graph-api.error';
import type { GraphMailboxClientOptions } from './graph-client.types';
import { BearerTokenMiddleware, GraphCall, MailboxConcurrencyMiddleware, OutboundFetchHandler, RetryAfterMiddleware } from './graph-middleware';
import { classifyGraphResponse, networkError } from './graph-response';

export interface GraphRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Absolute URL (a nextLink/deltaLink is used exactly as Graph gave it). */
  url: string;
  /** Sent as JSON, unless `contentType` is given: then a string sent as it is (sendMail's base64 MIME is text/plain). */
  body?: unknown;
  contentType?: string;
  /** `Prefer` preferences, joined with ", ". */
  prefer?: string[];
  /** A delta page: 400 ErrorInvalidSyncStateData counts as a sync reset. */
  delta?: boolean;
  /** Safe to send again after a network failure mid-request; default: every method but POST. */
  idempotent?: boolean;
}

export interface GraphResponse {
  status: number;
  /** Parsed JSON body; null for an empty body (204). */
  json: unknown;
  requestId: string | null;
}

/** Retries without Retry-After: 1 s, 2 s, 4 s … capped at 60 s, plus up to 25 % jitter so many mailboxes spread out. */
export const GRAPH_RETRY_BACKOFF: Backoff = { baseMs: 1_000, maxMs: 60_000, jitter: 0.25 };

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url.split('?')[0] ?? url;
  }
}

/** A 2xx whose body has not been read: the caller streams it (and must consume or cancel it). */
export interface GraphStreamResponse {
  status: number;
  headers: Headers;
  body: ReadableStream<Uint8Array>;
  /** Aborts the request (the body stream errors). */
  abort(): void;
}

/**
 * Sends Graph requests for one mailbox through `@microsoft/microsoft-graph-client` with a middleware chain
 * of our own (graph-middleware.ts): Retry-After/throttling retries → bearer token (one forced refresh
 * after a 401) → the mailbox's concurrency slots → our fetch (outbound policy, extra CA, timeout per
 * attempt). Answers come back RAW, so streamed bodies stay streams and errors are classified by us.
 * Never logs; errors carry method, path (no query) and Graph's code/message only.
 */
export class GraphHttp {
  /**
   * The mailbox's request slots. Exchange Online answers 429 "MailboxConcurrency" past 4 in-flight
   * requests per mailbox and app, so every request takes a slot for the HTTP exchange only (not while it
   * sleeps before a retry, so waiting calls do not starve the others).
   */
  readonly concurrency: ConcurrencyLimit;
  private readonly agent?: Agent;
  private readonly maxRetries: number;
  private readonly maxRetryAfterMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly client: Client;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(private readonly options: GraphMailboxClientOptions) {
    this.concurrency = concurrencyLimit(options.maxConcurrent ?? 4);
    this.maxRetries = Math.max(0, options.maxRetries ?? 5);
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 120_000;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    let fetchImpl: typeof fetch;
    if (options.fetch) fetchImpl = options.fetch;
    else if (options.caPem || options.outbound?.enforced) {
      // An Agent of our own: to trust the extra CA, and to pass every connection through the outbound policy.
      this.agent = outboundAgent(options.outbound ?? OutboundPolicy.allowAll(), { ca: options.caPem });
      fetchImpl = fetchThrough(this.agent);
    } else fetchImpl = globalThis.fetch;
    this.fetchImpl = fetchImpl;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.client = Client.initWithMiddleware({
      middleware: [
        new RetryAfterMiddleware({
          maxRetries: this.maxRetries,
          maxRetryAfterMs: this.maxRetryAfterMs,
          backoff: GRAPH_RETRY_BACKOFF,
          sleep: this.sleep,
          random: this.random,
          onThrottled: options.onThrottled,
        }),
        new BearerTokenMiddleware(options.accessToken),
        new MailboxConcurrencyMiddleware(this.concurrency),
        new OutboundFetchHandler(fetchImpl, options.timeoutMs ?? 30_000),
      ],
    });
  }

  /** Closes the agent (only created with caPem or an enforced policy); idle keep-alive sockets of the global fetch close by themselves. */
  async close(): Promise<void> {
    await this.agent?.close();
  }

  async request(request: GraphRequest): Promise<GraphResponse> {
    const path = pathOf(request.url);
    const call = new GraphCall(request.url, request.method, path, request.idempotent ?? request.method !== 'POST', false);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (request.prefer?.length) headers.Prefer = request.prefer.join(', ');
    if (request.body !== undefined) headers['Content-Type'] = request.contentType ?? 'application/json';
    if (request.contentType !== undefined && typeof request.body !== 'string') throw new TypeError(`A ${request.contentType} body must be a string`);
    const response = await this.send(call, headers, request.body);
    const status = response.status;
    const text = call.bodyText ?? '';
    const requestId = response.headers.get('request-id');
    if (status >= 200 && status < 300) {
      let json: unknown = null;
      if (text.trim() !== '') {
        try {
          json = JSON.parse(text);
        } catch {
          throw new GraphApiError({
            kind: 'server',
            status,
            code: GraphErrorCode.InvalidResponse,
            message: `Graph ${request.method} ${path} answered ${status} with a body that is not JSON`,
            requestId,
          });
        }
      }
      return { status, json, requestId };
    }
    throw classifyGraphResponse({ status, body: text, headers: response.headers, method: request.method, path, delta: request.delta });
  }

  /**
   * A GET whose 2xx body is streamed, not read (a message's MIME, an attachment's bytes): the same token,
   * 401-refresh and retry rules as `request` until the answer starts; `timeoutMs` bounds the wait for the
   * headers only — the caller watches the body (an idle timeout) since a 25 MB body may take a while.
   */
  async stream(url: string, accept = '*/*'): Promise<GraphStreamResponse> {
    const path = pathOf(url);
    const call = new GraphCall(url, 'GET', path, true, true);
    const response = await this.send(call, { Accept: accept }, undefined);
    if (response.status >= 200 && response.status < 300 && response.body && call.bodyText === null) {
      return { status: response.status, headers: response.headers, body: response.body, abort: () => call.abort() };
    }
    throw classifyGraphResponse({ status: response.status, body: call.bodyText ?? '', headers: response.headers, method: 'GET', path });
  }

  /**
   * One PUT of bytes to an upload session's URL (large attachments). The URL carries its own authorization,
   * and Graph documents that the Authorization header must NOT be sent with it, so this goes around the
   * middleware chain (no bearer, no retries) over the same transport: outbound policy, extra CA, timeout.
   */
  async putBytes(url: string, headers: Record<string, string>, body: Buffer): Promise<GraphResponse> {
    const path = pathOf(url);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException('The operation timed out', 'TimeoutError')), this.timeoutMs);
    let status: number;
    let text: string;
    let responseHeaders: Headers;
    try {
      const response = await this.fetchImpl(url, { method: 'PUT', headers: { ...headers, 'Content-Length': String(body.length) }, body, signal: controller.signal });
      status = response.status;
      responseHeaders = response.headers;
      text = await response.text();
    } catch (cause) {
      throw networkError(cause, 'PUT', path, this.timeoutMs);
    } finally {
      clearTimeout(timer);
    }
    const requestId = responseHeaders.get('request-id');
    if (status < 200 || status >= 300) throw classifyGraphResponse({ status, body: text, headers: responseHeaders, method: 'PUT', path });
    let json: unknown = null;
    try {
      json = text.trim() === '' ? null : JSON.parse(text);
    } catch {
      throw new GraphApiError({ kind: 'server', status, code: GraphErrorCode.InvalidResponse, message: `Graph PUT ${path} answered ${status} with a body that is not JSON`, requestId });
    }
    return { status, json, requestId };
  }

  /**
   * Before sending again something Graph pushed back outside `request` (items of a `$batch`): false once
   * `retries` reached the budget; else reports the wait (onThrottled, as `request` does) and sleeps it.
   */
  async waitToRetry(retries: number, retryAfterMs: number | null, status: number): Promise<boolean> {
    if (retries >= this.maxRetries) return false;
    const wait = Math.min(this.maxRetryAfterMs, retryAfterMs ?? backoffDelay(retries, GRAPH_RETRY_BACKOFF, this.random));
    if (status !== 0) this.options.onThrottled?.(wait, status);
    await this.sleep(wait);
    return true;
  }

  /**
   * Through the library's client with our chain; RAW: the Response as the chain left it (no parsing, no
   * throwing on non-2xx). The builder's URL is not used (see GraphCall); what failed inside the chain comes
   * back as it was thrown there, not as the library's wrapper.
   */
  private async send(call: GraphCall, headers: Record<string, string>, body: unknown): Promise<Response> {
    const builder = this.client.api(call.path).headers(headers).middlewareOptions([call]).responseType(ResponseType.RAW);
    try {
      switch (call.method) {
        case 'GET':
          return (await builder.get()) as Response;
        case 'POST':
          return (await builder.post(body)) as Response;
        case 'PATCH':
          return (await builder.patch(body)) as Response;
        default:
          return (await builder.delete()) as Response;
      }
    } catch (error) {
      throw call.failure ?? error;
    }
  }
}
