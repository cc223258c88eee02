import { randomUUID } from 'node:crypto';
import type { Context, Middleware, MiddlewareOptions } from '@microsoft/microsoft-graph-client';
import { Backoff, backoffDelay, ConcurrencyLimit } from '@app/async';
import { FailureCode } from '@app/failures';
import { GraphApiError } from './graph-api.error';
import { isTlsFailure, networkError, parseRetryAfter, requestNeverSent, RETRYABLE_STATUSES } from './graph-response';

/**
 * One Graph call on its way through our middleware chain (a MiddlewareOptions the request carries):
 * what the middleware must know about it, and what they leave for GraphHttp. The library's request
 * builder re-splits query strings and only understands https hosts; Graph's nextLink/deltaLink must go
 * out exactly as Graph gave them, so the final handler sends `url`, not the builder's URL.
 */
export class GraphCall implements MiddlewareOptions {
  /** A 401 was answered once: the token was refreshed (only once per call). */
  refreshed = false;
  /** The body of the final answer, read inside the slot and the timeout (not for a streamed 2xx). */
  bodyText: string | null = null;
  /** Aborts a streamed answer. */
  abort: () => void = () => undefined;
  /** What failed inside the chain (the library wraps errors in its GraphError; ours are unwrapped from here). */
  failure: unknown = undefined;

  constructor(
    readonly url: string,
    readonly method: string,
    /** The path without the query, for error messages (delta tokens stay out of logs). */
    readonly path: string,
    /** Safe to send again after a network failure mid-request. */
    readonly idempotent: boolean,
    /** A 2xx body is handed over unread. */
    readonly stream: boolean,
  ) {}
}

export function graphCallOf(context: Context): GraphCall {
  const call = context.middlewareControl?.getMiddlewareOptions(GraphCall) as GraphCall | undefined;
  if (!call) throw new Error('Graph request without its GraphCall options');
  return call;
}

function setHeader(context: Context, name: string, value: string): void {
  context.options ??= {};
  const headers = context.options.headers;
  if (headers instanceof Headers) headers.set(name, value);
  else context.options.headers = { ...(headers as Record<string, string> | undefined), [name]: value };
}

function headersOf(context: Context): Record<string, string> {
  const headers = context.options?.headers;
  if (!headers) return {};
  if (headers instanceof Headers) return Object.fromEntries(headers.entries());
  return { ...(headers as Record<string, string>) };
}

abstract class ChainLink implements Middleware {
  protected next?: Middleware;
  setNext(next: Middleware): void {
    this.next = next;
  }
  protected forward(context: Context): Promise<void> {
    if (!this.next) throw new Error('Graph middleware chain ends without a handler');
    return this.next.execute(context);
  }
  abstract execute(context: Context): Promise<void>;
}

export interface RetryAfterPolicy {
  maxRetries: number;
  maxRetryAfterMs: number;
  backoff: Backoff;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  onThrottled?: (retryAfterMs: number, status: number) => void;
}

/**
 * Outermost: 429/503/504 and network failures are sent again after what Retry-After says (else the
 * backoff), at most `maxRetries` times; each wait caused by an answer is reported to onThrottled. A POST
 * that may have reached Graph is not sent twice; a certificate or an address the outbound policy refuses
 * is not fixed by trying again. Whatever finally fails is left on the GraphCall for GraphHttp.
 */
export class RetryAfterMiddleware extends ChainLink {
  constructor(private readonly policy: RetryAfterPolicy) {
    super();
  }

  async execute(context: Context): Promise<void> {
    const call = graphCallOf(context);
    try {
      for (let retries = 0; ; retries += 1) {
        let retryAfterMs: number | null = null;
        let status = 0;
        try {
          await this.forward(context);
          status = context.response?.status ?? 0;
          if (!RETRYABLE_STATUSES.has(status) || retries >= this.policy.maxRetries) return;
          retryAfterMs = parseRetryAfter(context.response?.headers.get('retry-after'));
        } catch (error) {
          if (!(error instanceof GraphApiError) || error.kind !== 'network' || retries >= this.policy.maxRetries) throw error;
          const settled = isTlsFailure(error.code) || error.code === FailureCode.OutboundAddressRefused;
          if (settled || !(call.idempotent || requestNeverSent(error.code))) throw error;
        }
        const wait = Math.min(this.policy.maxRetryAfterMs, retryAfterMs ?? backoffDelay(retries, this.policy.backoff, this.policy.random));
        if (status !== 0 && !call.stream) this.policy.onThrottled?.(wait, status);
        // Outside the mailbox's slot (taken further down the chain): a throttled call does not hold up the others.
        await this.policy.sleep(wait);
      }
    } catch (error) {
      call.failure = error;
      throw error;
    }
  }
}

/**
 * The bearer token from our callback on every attempt (its cache decides when to refresh). An access
 * token can die before its expiry (revocation, policy change): after a 401 the callback is asked once
 * with forceRefresh and the request sent once more; a second 401 is the answer.
 */
export class BearerTokenMiddleware extends ChainLink {
  constructor(private readonly accessToken: (options: { forceRefresh: boolean }) => Promise<string>) {
    super();
  }

  async execute(context: Context): Promise<void> {
    const call = graphCallOf(context);
    let forceRefresh = false;
    for (;;) {
      setHeader(context, 'Authorization', `Bearer ${await this.accessToken({ forceRefresh })}`);
      await this.forward(context);
      if (context.response?.status !== 401 || call.refreshed) return;
      call.refreshed = true;
      forceRefresh = true;
    }
  }
}

/**
 * The mailbox's request slots around the HTTP exchange only. Exchange Online answers 429
 * "MailboxConcurrency" past 4 in-flight requests per mailbox and app.
 */
export class MailboxConcurrencyMiddleware extends ChainLink {
  constructor(private readonly slots: ConcurrencyLimit) {
    super();
  }

  execute(context: Context): Promise<void> {
    return this.slots(() => this.forward(context));
  }
}

/**
 * The final handler: our fetch (the global one, or undici's through the outbound policy's dispatcher and
 * the extra CA), a fresh client-request-id per attempt, a timeout per attempt. A body is read here, inside
 * the slot and the timeout (the request is not over before it is), except a streamed 2xx: its timeout
 * covers the headers only and the caller reads (or cancels) the body.
 */
export class OutboundFetchHandler implements Middleware {
  constructor(
    private readonly fetchImpl: typeof fetch,
    private readonly timeoutMs: number,
  ) {}

  async execute(context: Context): Promise<void> {
    const call = graphCallOf(context);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException('The operation timed out', 'TimeoutError')), this.timeoutMs);
    const headers = headersOf(context);
    headers['client-request-id'] = randomUUID();
    let response: Response;
    try {
      response = await this.fetchImpl(call.url, { method: call.method, headers, body: context.options?.body as RequestInit['body'], signal: controller.signal });
    } catch (cause) {
      clearTimeout(timer);
      throw networkError(cause, call.method, call.path, this.timeoutMs);
    }
    context.response = response;
    if (call.stream && response.status >= 200 && response.status < 300 && response.body) {
      clearTimeout(timer);
      call.abort = () => controller.abort();
      return;
    }
    try {
      call.bodyText = await response.text();
    } catch (cause) {
      throw networkError(cause, call.method, call.path, this.timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  }
}
