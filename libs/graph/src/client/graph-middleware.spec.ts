import { GraphApiError } from './graph-api.error';
import { GraphHttp } from './graph-http';

/**
 * The middleware chain GraphHttp builds on @microsoft/microsoft-graph-client, at the transport seam: a
 * scripted fetch answers each attempt in turn (what Graph would have said) and records what was sent.
 */
function scripted(answers: Array<() => Response | Promise<Response>>) {
  const sent: Array<{ url: string; method: string; headers: Record<string, string>; body?: string }> = [];
  const fetchStub = (async (url: string, init: RequestInit = {}) => {
    sent.push({ url, method: init.method ?? 'GET', headers: { ...(init.headers as Record<string, string>) }, body: init.body as string | undefined });
    const next = answers.shift();
    if (!next) throw new Error(`no answer scripted for ${url}`);
    return next();
  }) as unknown as typeof fetch;
  return { fetch: fetchStub, sent };
}

const URL_DELTA = 'https://graph.example/v1.0/users/ana%40contoso.com/mailFolders/inbox/messages/delta?$deltatoken=a%2Bb%3D&$select=id';
const ok = (body: unknown) => () => new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
const graphError = (status: number, code: string, extra: Record<string, string> = {}) => () =>
  new Response(JSON.stringify({ error: { code, message: code } }), { status, headers: { 'Content-Type': 'application/json', ...extra } });

describe('GraphHttp middleware chain (@microsoft/microsoft-graph-client)', () => {
  it('sends the URL exactly as given (a deltaLink is not re-encoded or reordered) with bearer token and client-request-id', async () => {
    const graph = scripted([ok({ value: [] })]);
    const http = new GraphHttp({ baseUrl: 'https://graph.example/v1.0', user: 'ana@contoso.com', accessToken: async () => 'token-1', fetch: graph.fetch });
    expect(await http.request({ method: 'GET', url: URL_DELTA, prefer: ['odata.maxpagesize=100'] })).toMatchObject({ status: 200, json: { value: [] } });
    expect(graph.sent).toHaveLength(1);
    expect(graph.sent[0]).toMatchObject({ url: URL_DELTA, method: 'GET', headers: { Authorization: 'Bearer token-1', Prefer: 'odata.maxpagesize=100', Accept: 'application/json' } });
    expect(graph.sent[0]?.headers['client-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('401: one forced token refresh and one retry with the new token; a second 401 is kind auth', async () => {
    const asked: boolean[] = [];
    const accessToken = async ({ forceRefresh }: { forceRefresh: boolean }) => {
      asked.push(forceRefresh);
      return `token-${asked.length}`;
    };
    const graph = scripted([graphError(401, 'InvalidAuthenticationToken'), ok({ id: 'x' })]);
    const http = new GraphHttp({ baseUrl: 'https://graph.example/v1.0', user: 'ana', accessToken, fetch: graph.fetch, sleep: async () => undefined });
    expect((await http.request({ method: 'PATCH', url: 'https://graph.example/v1.0/subscriptions/s1', body: { a: 1 } })).json).toEqual({ id: 'x' });
    expect(asked).toEqual([false, true]);
    expect(graph.sent.map((s) => [s.method, s.headers.Authorization, s.body])).toEqual([
      ['PATCH', 'Bearer token-1', '{"a":1}'],
      ['PATCH', 'Bearer token-2', '{"a":1}'],
    ]);

    const again = scripted([graphError(401, 'InvalidAuthenticationToken'), graphError(401, 'InvalidAuthenticationToken')]);
    const stubborn = new GraphHttp({ baseUrl: 'https://graph.example/v1.0', user: 'ana', accessToken, fetch: again.fetch, sleep: async () => undefined });
    const error = await stubborn.request({ method: 'GET', url: 'https://graph.example/v1.0/subscriptions/s1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphApiError);
    expect(error).toMatchObject({ kind: 'auth', status: 401, code: 'InvalidAuthenticationToken' });
    expect(again.sent).toHaveLength(2);
  });

  it('429 with Retry-After: waits what Graph asked (counted by onThrottled), outside the mailbox slot, then succeeds', async () => {
    const sleeps: number[] = [];
    const throttled: Array<[number, number]> = [];
    let http!: GraphHttp;
    const inFlightWhileSleeping: number[] = [];
    const graph = scripted([graphError(429, 'ApplicationThrottled', { 'Retry-After': '7' }), graphError(503, 'ServiceUnavailable', { 'Retry-After': '2' }), ok({ fine: true })]);
    http = new GraphHttp({
      baseUrl: 'https://graph.example/v1.0',
      user: 'ana',
      accessToken: async () => 't',
      fetch: graph.fetch,
      sleep: async (ms) => {
        sleeps.push(ms);
        inFlightWhileSleeping.push(http.concurrency.activeCount);
      },
      onThrottled: (ms, status) => throttled.push([ms, status]),
    });
    expect((await http.request({ method: 'GET', url: 'https://graph.example/v1.0/users/ana/mailFolders/inbox' })).json).toEqual({ fine: true });
    expect(sleeps).toEqual([7000, 2000]);
    expect(throttled).toEqual([
      [7000, 429],
      [2000, 503],
    ]);
    expect(inFlightWhileSleeping).toEqual([0, 0]);
  });

  it('a network failure of a POST that may have reached Graph is not sent again; a GET is', async () => {
    const reset = () => Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) }));
    const post = scripted([reset]);
    const http = new GraphHttp({ baseUrl: 'https://graph.example/v1.0', user: 'ana', accessToken: async () => 't', fetch: post.fetch, sleep: async () => undefined });
    await expect(http.request({ method: 'POST', url: 'https://graph.example/v1.0/subscriptions', body: {} })).rejects.toMatchObject({ kind: 'network', code: 'ECONNRESET' });
    expect(post.sent).toHaveLength(1);
    const get = scripted([reset, ok({ back: true })]);
    const again = new GraphHttp({ baseUrl: 'https://graph.example/v1.0', user: 'ana', accessToken: async () => 't', fetch: get.fetch, sleep: async () => undefined });
    expect((await again.request({ method: 'GET', url: 'https://graph.example/v1.0/subscriptions/s' })).json).toEqual({ back: true });
    expect(get.sent).toHaveLength(2);
  });

  it('stream: a /$value body comes back before it has ended (nothing buffers it) and can be aborted', async () => {
    let push!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (controller) => void (push = controller) });
    const graph = scripted([() => new Response(body, { status: 200, headers: { 'Content-Type': 'message/rfc822' } })]);
    const http = new GraphHttp({ baseUrl: 'https://graph.example/v1.0', user: 'ana', accessToken: async () => 't', fetch: graph.fetch });
    push.enqueue(new TextEncoder().encode('Subject: first chunk\r\n'));
    // The source is still open: a client that buffered the body would never resolve here.
    const streamed = await http.stream('https://graph.example/v1.0/users/ana/messages/m1/$value');
    expect(streamed.status).toBe(200);
    const reader = streamed.body.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('Subject: first chunk\r\n');
    push.enqueue(new TextEncoder().encode('\r\nbody'));
    push.close();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('\r\nbody');
    expect((await reader.read()).done).toBe(true);
    expect(graph.sent[0]).toMatchObject({ method: 'GET', headers: { Accept: '*/*', Authorization: 'Bearer t' } });
  });
});
