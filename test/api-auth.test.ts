import { rawRequest, RunningApi, useApiSuite } from '@app/testing';

/**
 * Every operation of the OpenAPI document, reached through path spellings that a router might treat as
 * the same route (case, doubled or dot segments, percent-encoded letters, trailing slash), without a key
 * or with a wrong one: none may answer 2xx. The requests go out through node:http with the path exactly
 * as written, because fetch and supertest normalise `/./` and `//` before sending.
 */

interface OpenApiDocument {
  paths: Record<string, Record<string, { security?: unknown[] }>>;
}

function send(url: string, method: string, path: string, headers: Record<string, string> = {}) {
  const body = method === 'GET' || method === 'DELETE' ? undefined : '{}';
  return rawRequest(url, { method, path, headers: { ...headers, ...(body ? { 'Content-Type': 'application/json' } : {}) }, body });
}

/** Spellings of one path that must not open a door the canonical one keeps shut. */
export function pathVariants(path: string): string[] {
  const upperFirstLetter = (segment: string) => segment.charAt(0).toUpperCase() + segment.slice(1);
  const segments = path.split('/').filter(Boolean);
  const percentFirstLetter = (segment: string) => `%${segment.charCodeAt(0).toString(16)}${segment.slice(1)}`;
  return [
    path,
    path.replace('/v1/', '/V1/'),
    path.toUpperCase(),
    `/${segments.map((segment, index) => (index === 1 ? segment.toUpperCase() : segment)).join('/')}`,
    `/${segments.map(upperFirstLetter).join('/')}`,
    `/${path}`,
    path.replace('/v1/', '/v1//'),
    path.replace('/v1/', '/v1/./'),
    path.replace('/v1/', '/x/../v1/'),
    `/${segments.map((segment, index) => (index === 1 ? percentFirstLetter(segment) : segment)).join('/')}`,
    `/%76${path.slice(2)}`,
    `${path}/`,
    `${path}?`,
    `${path};`,
    `${path}%2f`,
  ];
}

describe('API key: every /v1 operation refuses a request without a valid key, however the path is spelled', () => {
  const suite = useApiSuite();
  let api: RunningApi;
  let document: OpenApiDocument;
  let ids: Record<string, string>;

  beforeAll(async () => {
    api = suite.api;
    document = (await api.http.get('/docs/openapi.json').expect(200)).body as OpenApiDocument;
    const provider = await api.http
      .post('/v1/providers')
      .set(api.auth)
      .send({ name: 'Auth probe', type: 'imap', host: 'imap.example.org', authMethod: 'basic', domains: ['auth-probe.example'] })
      .expect(201);
    const mailbox = await api.http.post('/v1/mailboxes').set(api.auth).send({ email: 'ana@auth-probe.example', password: 'pw-auth-probe' }).expect(201);
    ids = { providerId: provider.body.id, mailboxId: mailbox.body.id, id: mailbox.body.id };
  });

  /** Operations the document marks as open (no bearer scheme). */
  function isPublic(operation: { security?: unknown[] }): boolean {
    return !operation.security || operation.security.length === 0;
  }

  /**
   * The only operations meant to be open: Graph's change and lifecycle notifications (checked by their
   * clientState instead). Pinned here so that an operation that merely forgot its bearer scheme in the
   * document is not silently skipped by the next test.
   */
  const MEANT_PUBLIC = ['POST /v1/graph/lifecycle', 'POST /v1/graph/notifications'];

  it('the operations the document leaves open are exactly the Graph receiver', () => {
    const open = Object.entries(document.paths).flatMap(([template, methods]) =>
      Object.entries(methods)
        .filter(([, operation]) => isPublic(operation))
        .map(([method]) => `${method.toUpperCase()} ${template}`),
    );
    expect(open.sort()).toEqual(MEANT_PUBLIC);
  });

  function concrete(template: string): string {
    return template.replace(/\{(\w+)\}/g, (_, name: string) => {
      if (name === 'id' && template.startsWith('/v1/providers')) return ids.providerId;
      return ids[name] ?? ids.id;
    });
  }

  it('the OpenAPI document lists the protected operations it is checked against', () => {
    const protectedOperations = Object.values(document.paths).flatMap((methods) => Object.values(methods).filter((op) => !isPublic(op)));
    // Providers (6), mailboxes (6 + status, resync, token import/delete, device code, authorize): far more than a handful.
    expect(protectedOperations.length).toBeGreaterThanOrEqual(14);
  });

  it('no path variant of a protected operation answers 2xx or 3xx without a key or with a wrong key, and its canonical path answers 401', async () => {
    const opened: string[] = [];
    let tried = 0;
    for (const [template, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        if (isPublic(operation)) continue;
        for (const path of pathVariants(concrete(template))) {
          for (const headers of [{}, { Authorization: 'Bearer not-the-key-0123456789' }, { Authorization: `bearer  ${'x'.repeat(40)}` }] as Array<Record<string, string>>) {
            const answer = await send(api.url, method.toUpperCase(), path, headers);
            tried += 1;
            // The path as the document spells it reaches its route: the guard itself must refuse it (a 404
            // there would hide a route that lost its guard behind an id of the wrong kind). Other spellings
            // may also miss every route.
            const refused = path === concrete(template) ? answer.status === 401 : answer.status >= 400;
            if (!refused) opened.push(`${method.toUpperCase()} ${path} ${JSON.stringify(headers)} → ${answer.status} ${answer.text.slice(0, 120)}`);
          }
        }
      }
    }
    expect(tried).toBeGreaterThan(500);
    expect(opened).toEqual([]);
    // Nothing was changed by any of those requests.
    await api.http.get(`/v1/mailboxes/${ids.mailboxId}`).set(api.auth).expect(200);
    await api.http.get(`/v1/providers/${ids.providerId}`).set(api.auth).expect(200);
  });

  it('routing is case-sensitive: /V1/… is not the API even with a valid key', async () => {
    expect((await send(api.url, 'GET', '/V1/providers', api.auth)).status).toBe(404);
    expect((await send(api.url, 'GET', '/v1/PROVIDERS', api.auth)).status).toBe(404);
    expect((await send(api.url, 'GET', '/v1/providers', api.auth)).status).toBe(200);
  });

  it('metrics, health and the OpenAPI document stay open (scrapers and probes carry no key)', async () => {
    expect((await send(api.url, 'GET', '/metrics')).status).toBe(200);
    expect((await send(api.url, 'GET', '/health/live')).status).toBe(200);
    expect((await send(api.url, 'GET', '/docs/openapi.json')).status).toBe(200);
  });
});
