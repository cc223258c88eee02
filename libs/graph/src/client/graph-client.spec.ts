import { backoffDelay } from '@app/async';
import { GraphApiError } from './graph-api.error';
import { GraphMailboxClient } from './graph-mailbox.client';
import { GRAPH_RETRY_BACKOFF } from './graph-http';
import { graphMessageOf, mailAddressOfGraph, receivedMessageOfGraph } from './graph-message.mapper';
import { classifyGraphResponse, isTlsFailure, networkErrorCode, parseGraphErrorBody, parseRetryAfter } from './graph-response';

const BASE = 'https://graph.example/v1.0';
const USER_PATH = `/v1.0/users/${encodeURIComponent('ana@contoso.com')}`;

function headers(values: Record<string, string> = {}): Headers {
  return new Headers(values);
}

function errorBody(code: string, message: string, requestId = 'req-1'): string {
  return JSON.stringify({ error: { code, message, innerError: { date: '2026-11-21T10:00:00', 'request-id': requestId, 'client-request-id': 'c-1' } } });
}

/** A scripted Graph: each request is answered by the first route whose matcher accepts it. */
interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}
type Route = (request: Seen) => Response | Promise<Response> | undefined;

function stubFetch(routes: Route[]): { fetch: typeof fetch; seen: Seen[] } {
  const seen: Seen[] = [];
  const fetchStub = (async (input: string, init: RequestInit = {}) => {
    const request: Seen = { method: init.method ?? 'GET', url: input, headers: { ...(init.headers as Record<string, string>) }, body: init.body as string | undefined };
    seen.push(request);
    for (const route of routes) {
      const response = await route(request);
      if (response) return response;
    }
    return new Response(errorBody('BadRequest', `no route for ${request.url}`), { status: 400 });
  }) as unknown as typeof fetch;
  return { fetch: fetchStub, seen };
}

const json = (body: unknown, status = 200, extra: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json;odata.metadata=minimal;odata.streaming=true;charset=utf-8', ...extra } });

function clientWith(fetchImpl: typeof fetch, options: Partial<ConstructorParameters<typeof GraphMailboxClient>[0]> = {}) {
  return new GraphMailboxClient({ baseUrl: `${BASE}/`, user: 'ana@contoso.com', accessToken: async () => 'token-1', fetch: fetchImpl, sleep: async () => undefined, ...options });
}

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-21T10:00:00Z');
  it.each([
    ['7', 7000],
    ['0', 0],
    [' 120 ', 120_000],
    ['1.5', 1500],
    ['Sat, 21 Nov 2026 10:00:30 GMT', 30_000],
    ['Sat, 21 Nov 2026 09:59:00 GMT', 0],
  ])('%j → %d ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });
  it.each([null, undefined, '', 'soon', '-5'])('%j → null', (value) => {
    expect(parseRetryAfter(value, now)).toBeNull();
  });
});

describe('parseGraphErrorBody / classifyGraphResponse', () => {
  const classify = (status: number, body: string, extra: Record<string, string> = {}, delta = false) =>
    classifyGraphResponse({ status, body, headers: headers(extra), method: 'GET', path: '/v1.0/users/x/mailFolders/inbox', delta }, Date.parse('2026-11-21T10:00:00Z'));

  it('reads code, message and innerError request-id; tolerates anything else', () => {
    expect(parseGraphErrorBody(errorBody('ErrorItemNotFound', 'The specified object was not found in the store.', 'abc'))).toEqual({
      code: 'ErrorItemNotFound',
      message: 'The specified object was not found in the store.',
      requestId: 'abc',
    });
    for (const body of ['', '<html>Bad gateway</html>', '{"error":', '{"value":[]}', 'null', '{"error":"text"}']) {
      expect(parseGraphErrorBody(body)).toEqual({ code: null, message: null, requestId: null });
    }
  });

  it.each([
    [401, 'InvalidAuthenticationToken', 'auth'],
    [403, 'ErrorAccessDenied', 'forbidden'],
    [404, 'ErrorItemNotFound', 'not_found'],
    [404, 'ResourceNotFound', 'not_found'],
    [410, 'SyncStateNotFound', 'sync_reset'],
    [410, 'resyncRequired', 'sync_reset'],
    [429, 'ApplicationThrottled', 'throttled'],
    [503, 'ServiceUnavailable', 'server'],
    [504, 'GatewayTimeout', 'server'],
    [500, 'generalException', 'server'],
    [400, 'BadRequest', 'invalid_request'],
    [400, 'ErrorInvalidSyncStateData', 'invalid_request'],
    [405, 'BadRequest', 'invalid_request'],
    [409, 'ErrorIrresolvableConflict', 'invalid_request'],
  ])('%d %s → %s', (status, code, kind) => {
    const error = classify(status, errorBody(code, 'm'));
    expect(error).toBeInstanceOf(GraphApiError);
    expect([error.kind, error.status, error.code]).toEqual([kind, status, code]);
  });

  it('a sync-state 400 on a delta page is a reset', () => {
    expect(classify(400, errorBody('ErrorInvalidSyncStateData', 'corrupt'), {}, true).kind).toBe('sync_reset');
    expect(classify(400, errorBody('BadRequest', 'bad $select'), {}, true).kind).toBe('invalid_request');
  });

  it('keeps Retry-After and the request id (header first), and names method, path and Graph message', () => {
    const error = classify(429, errorBody('TooManyRequests', 'Please retry again later.', 'from-body'), { 'Retry-After': '3', 'request-id': 'from-header' });
    expect(error).toMatchObject({ kind: 'throttled', retryAfterMs: 3000, requestId: 'from-header' });
    expect(error.message).toBe('Graph GET /v1.0/users/x/mailFolders/inbox answered 429 TooManyRequests: Please retry again later.');
    expect(classify(404, errorBody('ErrorItemNotFound', 'x', 'from-body')).requestId).toBe('from-body');
  });

  it('a non-JSON error body gets an HTTP code and a bounded excerpt', () => {
    const error = classify(502, `<html><body>${'Bad gateway '.repeat(50)}</body></html>`);
    expect([error.kind, error.code, error.retryAfterMs, error.requestId]).toEqual(['server', 'HTTP502', null, null]);
    expect(error.message.startsWith('Graph GET /v1.0/users/x/mailFolders/inbox answered 502 HTTP502: <html><body>Bad gateway')).toBe(true);
    expect(error.message.length).toBeLessThan(300);
    expect(classify(500, '').message).toMatch(/: no body$/);
  });
});

describe('networkErrorCode', () => {
  it('finds the socket code in nested causes; timeouts are ETIMEDOUT', () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });
    expect(networkErrorCode(refused)).toBe('ECONNREFUSED');
    const nested = Object.assign(new TypeError('fetch failed'), { cause: { cause: { code: 'UND_ERR_SOCKET' } } });
    expect(networkErrorCode(nested)).toBe('UND_ERR_SOCKET');
    expect(networkErrorCode(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toBe('ETIMEDOUT');
    expect(networkErrorCode(new DOMException('aborted', 'AbortError'))).toBe('ABORTED');
    expect(networkErrorCode(new Error('weird'))).toBe('ENETWORK');
  });

  it('tells certificate failures (not retried) from transient ones', () => {
    for (const code of ['DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'SELF_SIGNED_CERT_IN_CHAIN']) {
      expect(isTlsFailure(code)).toBe(true);
    }
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'ENETWORK']) expect(isTlsFailure(code)).toBe(false);
  });
});

describe('Graph retry backoff', () => {
  it('1 s doubling to a 60 s cap, with up to 25 % jitter', () => {
    expect([0, 1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, GRAPH_RETRY_BACKOFF, () => 0))).toEqual([1000, 2000, 4000, 8000, 16000, 32000]);
    expect(backoffDelay(0, GRAPH_RETRY_BACKOFF, () => 1)).toBe(1250);
    expect(backoffDelay(6, GRAPH_RETRY_BACKOFF, () => 0)).toBe(60_000);
    expect(backoffDelay(20, GRAPH_RETRY_BACKOFF, () => 1)).toBe(60_000);
  });
});

describe('graph message mapper', () => {
  it('maps a delta item; missing or empty parts become null / []', () => {
    const item = {
      '@odata.type': '#microsoft.graph.message',
      '@odata.etag': 'W/"CQAAAB"',
      id: 'AAkALgAAA=',
      internetMessageId: '<m1@fabrikam.com>',
      subject: 'Hello',
      from: { emailAddress: { name: 'Bob', address: 'bob@fabrikam.com' } },
      toRecipients: [{ emailAddress: { name: '', address: 'ana@contoso.com' } }, { emailAddress: {} }, 'junk'],
      ccRecipients: [{ emailAddress: { name: 'Team', address: 'team@contoso.com' } }],
      receivedDateTime: '2026-11-21T10:00:00Z',
      parentFolderId: 'AQMkAD=',
    };
    const message = graphMessageOf(item);
    expect(message).toEqual({
      id: 'AAkALgAAA=',
      internetMessageId: '<m1@fabrikam.com>',
      subject: 'Hello',
      from: { name: 'Bob', address: 'bob@fabrikam.com' },
      to: [{ name: null, address: 'ana@contoso.com' }],
      cc: [{ name: 'Team', address: 'team@contoso.com' }],
      receivedDateTime: '2026-11-21T10:00:00Z',
      parentFolderId: 'AQMkAD=',
    });
    expect(graphMessageOf({ id: 'x' })).toEqual({ id: 'x', internetMessageId: null, subject: null, from: null, to: [], cc: [], receivedDateTime: null, parentFolderId: null });
    expect(graphMessageOf({ subject: 'no id' })).toBeNull();
    expect(graphMessageOf(null)).toBeNull();
    expect(mailAddressOfGraph({ emailAddress: { name: 'Only name' } })).toEqual({ name: 'Only name', address: null });

    expect(receivedMessageOfGraph(message as NonNullable<typeof message>, 'Projects/2026')).toEqual({
      folder: 'Projects/2026',
      uid: null,
      uidValidity: null,
      providerMessageId: 'AAkALgAAA=',
      internetMessageId: '<m1@fabrikam.com>',
      subject: 'Hello',
      from: { name: 'Bob', address: 'bob@fabrikam.com' },
      to: [{ name: null, address: 'ana@contoso.com' }],
      cc: [{ name: 'Team', address: 'team@contoso.com' }],
      receivedAt: '2026-11-21T10:00:00.000Z',
      size: null,
    });
    expect(receivedMessageOfGraph({ ...(message as NonNullable<typeof message>), receivedDateTime: 'garbage' }, 'INBOX').receivedAt).toBeNull();
  });
});

describe('resolveFolder over childFolders (not served by the fake Graph)', () => {
  const folders = {
    projects: { id: 'AQMk-projects=', displayName: 'Projects' },
    y2026: { id: 'AQMk-2026/+=', displayName: '2026' },
    clients: { id: 'AQMk-clients=', displayName: "Clients 'A'" },
  };
  function graph() {
    return stubFetch([
      ({ url }) => (url === `${BASE}${USER_PATH.slice(5)}/mailFolders/inbox?$select=id%2CdisplayName` ? json({ id: 'AQMk-inbox=', displayName: 'Inbox' }) : undefined),
      ({ url }) => {
        const parsed = new URL(url);
        if (!parsed.pathname.endsWith('/mailFolders') && !parsed.pathname.endsWith('/childFolders')) return undefined;
        const filter = parsed.searchParams.get('$filter') ?? '';
        const parent = parsed.pathname.endsWith('/mailFolders') ? 'root' : decodeURIComponent(parsed.pathname.split('/').at(-2) ?? '');
        const children: Record<string, Array<{ id: string; displayName: string }>> = {
          root: [folders.projects, { id: 'AQMk-lower=', displayName: 'projects' }],
          [folders.projects.id]: [folders.y2026],
          'AQMk-inbox=': [folders.clients],
        };
        // Graph's eq is case-insensitive; the stub answers like that.
        const name = /^displayName eq '(.*)'$/.exec(filter)?.[1]?.replace(/''/g, "'") ?? '';
        return json({ value: (children[parent] ?? []).filter((f) => f.displayName.toLowerCase() === name.toLowerCase()) });
      },
    ]);
  }

  it('walks "Projects/2026" level by level, preferring the exact-case match; ids are path-encoded', async () => {
    const { fetch, seen } = graph();
    const client = clientWith(fetch);
    expect(await client.resolveFolder('Projects/2026')).toEqual({ id: folders.y2026.id, displayName: '2026', wellKnownName: null });
    expect(seen.map((s) => s.url)).toEqual([
      `${BASE}${USER_PATH.slice(5)}/mailFolders?$filter=displayName%20eq%20'Projects'&$select=id%2CdisplayName`,
      `${BASE}${USER_PATH.slice(5)}/mailFolders/AQMk-projects%3D/childFolders?$filter=displayName%20eq%20'2026'&$select=id%2CdisplayName`,
    ]);
    expect(seen[0]?.headers.Authorization).toBe('Bearer token-1');
  });

  it('a well-known first level ("Inbox/…") and doubled quotes in names', async () => {
    const { fetch, seen } = graph();
    expect(await clientWith(fetch).resolveFolder("inbox/Clients 'A'")).toEqual({ id: folders.clients.id, displayName: "Clients 'A'", wellKnownName: null });
    expect(new URL(seen[1]?.url ?? '').searchParams.get('$filter')).toBe("displayName eq 'Clients ''A'''");
  });

  it('names the missing level', async () => {
    const { fetch } = graph();
    const error = (await clientWith(fetch)
      .resolveFolder('Projects/2027')
      .catch((e: unknown) => e)) as GraphApiError;
    expect(error).toBeInstanceOf(GraphApiError);
    expect([error.kind, error.code, error.message]).toEqual(['not_found', 'FolderNotFound', 'Folder "Projects/2027" does not exist in mailbox ana@contoso.com: no folder named "2027" under "Projects"']);
    const empty = (await clientWith(fetch)
      .resolveFolder(' / ')
      .catch((e: unknown) => e)) as GraphApiError;
    expect([empty.kind, empty.code]).toEqual(['invalid_request', 'InvalidFolderPath']);
  });

  it('a well-known folder the mailbox lacks is not_found with the Graph code kept', async () => {
    const { fetch } = stubFetch([() => json({ error: { code: 'ErrorItemNotFound', message: 'The specified object was not found in the store.' } }, 404)]);
    const error = (await clientWith(fetch)
      .resolveFolder('archive')
      .catch((e: unknown) => e)) as GraphApiError;
    expect([error.kind, error.status, error.code]).toEqual(['not_found', 404, 'ErrorItemNotFound']);
    expect(error.message).toBe('Folder "archive" does not exist in mailbox ana@contoso.com: the mailbox has no well-known folder "archive"');
  });
});

describe('request pipeline (stubbed transport)', () => {
  it('sends Prefer on every delta page, follows nextLink exactly, skips @removed, awaits onPage in order', async () => {
    const next = `${BASE}/users/ana%40contoso.com/mailFolders('AQMk%3D')/messages/delta?$skiptoken=a'b`;
    const { fetch, seen } = stubFetch([
      ({ url }) =>
        url.includes('$skiptoken')
          ? json({ value: [{ id: 'm3', subject: 'three' }], '@odata.deltaLink': `${BASE}/delta?$deltatoken=z` })
          : json({ value: [{ id: 'm1' }, { id: 'gone', '@removed': { reason: 'deleted' } }, { id: 'm2' }], '@odata.nextLink': next }),
    ]);
    const client = clientWith(fetch, { pageSize: 25 });
    const pages: string[][] = [];
    const round = await client.delta('AQMk=', { receivedSince: new Date('2026-11-21T10:00:00.000Z') }, async (messages) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      pages.push(messages.map((m) => m.id));
    });
    expect(round).toEqual({ deltaLink: `${BASE}/delta?$deltatoken=z`, pages: 2, messages: 3 });
    expect(pages).toEqual([['m1', 'm2'], ['m3']]);
    expect(seen[0]?.url).toBe(
      `${BASE}/users/ana%40contoso.com/mailFolders/AQMk%3D/messages/delta?changeType=created&$select=internetMessageId%2Csubject%2Cfrom%2CtoRecipients%2CccRecipients%2CreceivedDateTime%2CparentFolderId&$filter=receivedDateTime%20ge%202026-11-21T10%3A00%3A00.000Z`,
    );
    expect(seen[1]?.url).toBe(next);
    for (const request of seen) expect(request.headers.Prefer).toBe('odata.maxpagesize=25, IdType="ImmutableId"');
  });

  it('a delta page with neither link is a server error', async () => {
    const { fetch } = stubFetch([() => json({ value: [] })]);
    const error = (await clientWith(fetch)
      .delta('f', { receivedSince: null }, async () => undefined)
      .catch((e: unknown) => e)) as GraphApiError;
    expect([error.kind, error.code]).toEqual(['server', 'InvalidDeltaResponse']);
  });

  it('401 → one forced refresh, then auth; the new token is used', async () => {
    const tokens: string[] = [];
    const asked: boolean[] = [];
    const { fetch, seen } = stubFetch([
      ({ headers: h }) => (h.Authorization === 'Bearer fresh' ? json({ id: 'AQMk-inbox=', displayName: 'Inbox' }) : json({ error: { code: 'InvalidAuthenticationToken', message: 'expired' } }, 401)),
    ]);
    const client = clientWith(fetch, {
      accessToken: async ({ forceRefresh }) => {
        asked.push(forceRefresh);
        const token = forceRefresh ? 'fresh' : 'stale';
        tokens.push(token);
        return token;
      },
    });
    expect((await client.resolveFolder('inbox')).id).toBe('AQMk-inbox=');
    expect(asked).toEqual([false, true]);
    expect(seen.map((s) => s.headers.Authorization)).toEqual(['Bearer stale', 'Bearer fresh']);
  });

  it('Retry-After as an HTTP date; the slot is free while a throttled call sleeps', async () => {
    let releaseSleep: () => void = () => undefined;
    const sleeps: number[] = [];
    let first = true;
    const { fetch, seen } = stubFetch([
      () => {
        if (!first) return json({ id: 'AQMk-inbox=', displayName: 'Inbox' });
        first = false;
        return json({ error: { code: 'TooManyRequests', message: 'later' } }, 429, { 'Retry-After': new Date(Date.now() + 10_000).toUTCString() });
      },
    ]);
    const client = clientWith(fetch, {
      maxConcurrent: 1,
      sleep: (ms) => {
        sleeps.push(ms);
        return new Promise<void>((resolve) => (releaseSleep = resolve));
      },
    });
    const throttled = client.resolveFolder('inbox');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThan(8_000);
    expect(sleeps[0]).toBeLessThanOrEqual(10_000);
    // The only slot is not held by the sleeping call: another call goes through meanwhile.
    expect((await client.resolveFolder('archive')).id).toBe('AQMk-inbox=');
    expect(client.inFlight).toBe(0);
    releaseSleep();
    expect((await throttled).id).toBe('AQMk-inbox=');
    expect(seen).toHaveLength(3);
  });

  it('a POST that may have reached Graph is not resent after a network failure; one that never left is', async () => {
    const reset = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET', message: 'socket hang up' } });
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' } });
    const failures = [reset];
    const { fetch, seen } = stubFetch([
      () => {
        const failure = failures.shift();
        if (failure) throw failure;
        return json({ id: 'sub-1', resource: 'r', expirationDateTime: '2026-11-21T11:00:00.0000000Z', clientState: 'c', notificationUrl: 'https://n', lifecycleNotificationUrl: null }, 201);
      },
    ]);
    const client = clientWith(fetch);
    const input = { folderId: 'AQMk=', notificationUrl: 'https://n', lifecycleNotificationUrl: null, expirationDateTime: new Date('2026-11-21T11:00:00Z'), clientState: 'c' };
    const error = (await client.createSubscription(input).catch((e: unknown) => e)) as GraphApiError;
    expect([error.kind, error.status, error.code]).toEqual(['network', 0, 'ECONNRESET']);
    expect(error.message).toBe('Graph POST /v1.0/subscriptions failed: fetch failed (socket hang up)');
    expect(seen).toHaveLength(1);

    failures.push(refused);
    const sub = await client.createSubscription(input);
    expect(sub).toEqual({
      id: 'sub-1',
      resource: 'r',
      expirationDateTime: new Date('2026-11-21T11:00:00Z'),
      clientState: 'c',
      notificationUrl: 'https://n',
      lifecycleNotificationUrl: null,
    });
    expect(seen).toHaveLength(3);
    expect(JSON.parse(seen[2]?.body ?? '{}')).toEqual({
      changeType: 'created',
      notificationUrl: 'https://n',
      resource: "users/ana@contoso.com/mailFolders('AQMk=')/messages",
      expirationDateTime: '2026-11-21T11:00:00.000Z',
      clientState: 'c',
      latestSupportedTlsVersion: 'v1_2',
    });
    expect(seen[2]?.headers.Prefer).toBe('IdType="ImmutableId"');
    expect(seen[2]?.headers['Content-Type']).toBe('application/json');
  });

  it('a 2xx body that is not JSON is a server error, not a crash', async () => {
    const { fetch } = stubFetch([() => new Response('<html>proxy</html>', { status: 200, headers: { 'Content-Type': 'text/html' } })]);
    const error = (await clientWith(fetch)
      .resolveFolder('inbox')
      .catch((e: unknown) => e)) as GraphApiError;
    expect([error.kind, error.code, error.status]).toEqual(['server', 'InvalidResponse', 200]);
  });
});
