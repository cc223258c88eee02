import { randomUUID } from 'node:crypto';
import type { Agent } from 'undici';
import { Backoff, backoffDelay, ConcurrencyLimit, concurrencyLimit } from '@app/async';
import { FailureCode, GraphErrorCode } from '@app/failures';
import { fetchThrough, outboundAgent, OutboundPolicy } from '@app/outbound';
import { GraphApiError } from './graph-api.error';
import type { GraphMailboxClientOptions } from './graph-client.types';
import { classifyGraphResponse, isTlsFailure, networkError, requestNeverSent, RETRYABLE_STATUSES } from './graph-response';

export interface GraphRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Absolute URL (a nextLink/deltaLink is used exactly as Graph gave it). */
  url: string;
  /** Sent as JSON. */
  body?: unknown;
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

type StreamAttempt = { kind: 'response'; response: GraphStreamResponse } | { kind: 'error'; error: GraphApiError; retryable: boolean; status: number };

type Attempt = { kind: 'response'; response: GraphResponse } | { kind: 'error'; error: GraphApiError; retryable: boolean; status: number };

/**
 * Sends Graph requests for one mailbox: bearer token per request (one forced refresh after a 401),
 * the mailbox's concurrency slots, a timeout per attempt, and retries of 429/503/504/network failures
 * honouring Retry-After. Never logs; errors carry method, path (no query) and Graph's code/message only.
 */
export class GraphHttp {
  /**
   * The mailbox's request slots. Exchange Online answers 429 "MailboxConcurrency" past 4 in-flight
   * requests per mailbox and app, so every request takes a slot for the HTTP exchange only (not while it
   * sleeps before a retry, so waiting calls do not starve the others).
   */
  readonly concurrency: ConcurrencyLimit;
  private readonly fetchImpl: typeof fetch;
  private readonly agent?: Agent;
  private readonly maxRetries: number;
  private readonly maxRetryAfterMs: number;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly options: GraphMailboxClientOptions) {
    this.concurrency = concurrencyLimit(options.maxConcurrent ?? 4);
    this.maxRetries = Math.max(0, options.maxRetries ?? 5);
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 120_000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    if (options.fetch) this.fetchImpl = options.fetch;
    else if (options.caPem || options.outbound?.enforced) {
      // An Agent of our own: to trust the extra CA, and to pass every connection through the outbound policy.
      this.agent = outboundAgent(options.outbound ?? OutboundPolicy.allowAll(), { ca: options.caPem });
      this.fetchImpl = fetchThrough(this.agent);
    } else this.fetchImpl = globalThis.fetch;
  }

  /** Closes the agent (only created with caPem or an enforced policy); idle keep-alive sockets of the global fetch close by themselves. */
  async close(): Promise<void> {
    await this.agent?.close();
  }

  async request(request: GraphRequest): Promise<GraphResponse> {
    let forceRefresh = false;
    let refreshed = false;
    let retries = 0;
    for (;;) {
      const token = await this.options.accessToken({ forceRefresh });
      forceRefresh = false;
      const outcome = await this.concurrency(() => this.attempt(request, token));
      if (outcome.kind === 'response') return outcome.response;
      const { error } = outcome;
      if (error.status === 401 && !refreshed) {
        // An access token can die before its expiry (revocation, policy change): refresh once, then believe the 401.
        refreshed = true;
        forceRefresh = true;
        continue;
      }
      if (!outcome.retryable || retries >= this.maxRetries) throw error;
      const wait = Math.min(this.maxRetryAfterMs, error.retryAfterMs ?? backoffDelay(retries, GRAPH_RETRY_BACKOFF, this.random));
      if (outcome.status !== 0) this.options.onThrottled?.(wait, outcome.status);
      retries += 1;
      // Outside the slot: a throttled call must not keep the mailbox's other calls waiting.
      await this.sleep(wait);
    }
  }

  /**
   * A GET whose 2xx body is streamed, not read (a message's MIME, an attachment's bytes): the same token,
   * 401-refresh and retry rules as `request` until the answer starts; `timeoutMs` bounds the wait for the
   * headers only — the caller watches the body (an idle timeout) since a 25 MB body may take a while.
   */
  async stream(url: string, accept = '*/*'): Promise<GraphStreamResponse> {
    let forceRefresh = false;
    let refreshed = false;
    let retries = 0;
    for (;;) {
      const token = await this.options.accessToken({ forceRefresh });
      forceRefresh = false;
      const outcome = await this.concurrency(() => this.streamAttempt(url, token, accept));
      if (outcome.kind === 'response') return outcome.response;
      const { error } = outcome;
      if (error.status === 401 && !refreshed) {
        refreshed = true;
        forceRefresh = true;
        continue;
      }
      if (!outcome.retryable || retries >= this.maxRetries) throw error;
      const wait = Math.min(this.maxRetryAfterMs, error.retryAfterMs ?? backoffDelay(retries, GRAPH_RETRY_BACKOFF, this.random));
      retries += 1;
      await this.sleep(wait);
    }
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

  private async streamAttempt(url: string, token: string, accept: string): Promise<StreamAttempt> {
    const path = pathOf(url);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException('The operation timed out', 'TimeoutError')), this.timeoutMs);
    let response: Response;
    try {
      response = await this.fetchImpl(url, { method: 'GET', headers: { Authorization: `Bearer ${token}`, Accept: accept, 'client-request-id': randomUUID() }, signal: controller.signal });
    } catch (cause) {
      clearTimeout(timer);
      const error = networkError(cause, 'GET', path, this.timeoutMs);
      const settled = isTlsFailure(error.code) || error.code === FailureCode.OutboundAddressRefused;
      return { kind: 'error', error, retryable: !settled, status: 0 };
    }
    clearTimeout(timer);
    if (response.status >= 200 && response.status < 300 && response.body) {
      return { kind: 'response', response: { status: response.status, headers: response.headers, body: response.body, abort: () => controller.abort() } };
    }
    const text = await response.text().catch(() => '');
    const error = classifyGraphResponse({ status: response.status, body: text, headers: response.headers, method: 'GET', path });
    return { kind: 'error', error, retryable: RETRYABLE_STATUSES.has(response.status), status: response.status };
  }

  private async attempt(request: GraphRequest, token: string): Promise<Attempt> {
    const path = pathOf(request.url);
    const headers: Record<string, string> = {
      Authorization: `Bearer ${token}`,
      Accept: 'application/json',
      'client-request-id': randomUUID(),
    };
    if (request.prefer?.length) headers.Prefer = request.prefer.join(', ');
    let body: string | undefined;
    if (request.body !== undefined) {
      body = JSON.stringify(request.body);
      headers['Content-Type'] = 'application/json';
    }
    let status: number;
    let text: string;
    let responseHeaders: Headers;
    try {
      const response = await this.fetchImpl(request.url, { method: request.method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
      status = response.status;
      responseHeaders = response.headers;
      // The body is read inside the slot and under the same timeout: the request is not over before it is.
      text = await response.text();
    } catch (cause) {
      const error = networkError(cause, request.method, path, this.timeoutMs);
      // A POST that may have reached Graph is not sent twice (a second subscription would be created). A
      // certificate or an address the outbound policy refuses is not fixed by trying again.
      const settled = isTlsFailure(error.code) || error.code === FailureCode.OutboundAddressRefused;
      const retryable = !settled && ((request.idempotent ?? request.method !== 'POST') || requestNeverSent(error.code));
      return { kind: 'error', error, retryable, status: 0 };
    }
    const requestId = responseHeaders.get('request-id');
    if (status >= 200 && status < 300) {
      let json: unknown = null;
      if (text.trim() !== '') {
        try {
          json = JSON.parse(text);
        } catch {
          const error = new GraphApiError({
            kind: 'server',
            status,
            code: GraphErrorCode.InvalidResponse,
            message: `Graph ${request.method} ${path} answered ${status} with a body that is not JSON`,
            requestId,
          });
          return { kind: 'error', error, retryable: false, status };
        }
      }
      return { kind: 'response', response: { status, json, requestId } };
    }
    const error = classifyGraphResponse({ status, body: text, headers: responseHeaders, method: request.method, path, delta: request.delta });
    return { kind: 'error', error, retryable: RETRYABLE_STATUSES.has(status), status };
  }
}
