import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';

export interface OutboundResult {
  /** 0 when there was no answer (connection error, timeout). */
  status: number;
  ms: number;
  text: string;
  contentType?: string;
  timedOut: boolean;
  error?: string;
}

const MAX_BODY = 1024 * 1024;

/**
 * One POST from "Graph" to one of our endpoints, on a fresh connection (Graph does not share a
 * keep-alive connection with us, and a fresh one per POST keeps test servers free to close). A reply
 * slower than `timeoutMs` counts as a timeout, whatever arrives later — Graph's rule for notifications.
 */
export function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: { timeoutMs: number; ca?: string; signal?: AbortSignal },
): Promise<OutboundResult> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let onAbort = (): void => undefined;
    const finish = (result: Omit<OutboundResult, 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ ...result, ms: elapsed() });
    };
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      finish({ status: 0, text: '', timedOut: false, error: 'invalid URL' });
      return;
    }
    const payload = Buffer.from(body, 'utf8');
    const requestOptions = {
      method: 'POST',
      agent: false as const,
      headers: { ...headers, 'Content-Length': String(payload.length), Connection: 'close', 'User-Agent': 'Microsoft-Graph-Fake/1.0' },
    };
    const onResponse = (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_BODY) chunks.push(chunk);
      });
      res.on('end', () =>
        finish({
          status: res.statusCode ?? 0,
          text: Buffer.concat(chunks).toString('utf8'),
          contentType: res.headers['content-type'],
          timedOut: false,
        }),
      );
      res.on('error', (error) => finish({ status: 0, text: '', timedOut: false, error: error.message }));
    };
    const req =
      target.protocol === 'https:'
        ? httpsRequest(target, { ...requestOptions, ...(options.ca ? { ca: options.ca } : {}) }, onResponse)
        : httpRequest(target, requestOptions, onResponse);
    timer = setTimeout(() => {
      finish({ status: 0, text: '', timedOut: true, error: 'timeout' });
      req.destroy();
    }, options.timeoutMs);
    onAbort = () => {
      finish({ status: 0, text: '', timedOut: false, error: 'aborted' });
      req.destroy();
    };
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort);
    req.on('error', (error: NodeJS.ErrnoException) => finish({ status: 0, text: '', timedOut: false, error: error.code ?? error.message }));
    req.end(payload);
  });
}

/** `url` with one more query parameter, the value already encoded by the caller. */
export function withQuery(url: string, name: string, encodedValue: string): string {
  const hash = url.indexOf('#');
  const base = hash >= 0 ? url.slice(0, hash) : url;
  return `${base}${base.includes('?') ? '&' : '?'}${name}=${encodedValue}`;
}
