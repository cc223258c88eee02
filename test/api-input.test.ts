import { RawAnswer, rawRequest, RunningApi, useApiSuite } from '@app/testing';

/**
 * What reaches the API before any DTO sees it: content types, encodings, bytes and shapes that no field
 * validation can describe. Each answer is a 4xx naming the problem, never a 500, never an echo of the input.
 */
function expectStatus(answer: RawAnswer, status: number) {
  if (answer.status !== status) throw new Error(`expected ${status}, got ${answer.status}: ${answer.text}`);
  return { ...answer, body: answer.body as { statusCode: number; error: string; message: string } };
}

describe('request bodies and URLs are checked before validation (real API, Postgres, Redis)', () => {
  const suite = useApiSuite();
  let api: RunningApi;
  const provider = { name: 'Input probe', type: 'imap', host: 'imap.example.org', authMethod: 'basic', domains: ['input-probe.example'] };

  beforeAll(() => {
    api = suite.api;
  });

  async function providerCount(): Promise<number> {
    return (await api.http.get('/v1/providers').set(api.auth).expect(200)).body.total as number;
  }

  /** Body bytes exactly as given (supertest would re-encode a Buffer as JSON), with the API key. */
  async function postRaw(path: string, body: Buffer | string, headers: Record<string, string>, status: number, auth = true) {
    return expectStatus(await rawRequest(api.url, { method: 'POST', path, body, headers: { ...(auth ? api.auth : {}), ...headers } }), status);
  }

  it('refuses a form post on a JSON route with 415, and creates nothing', async () => {
    const before = await providerCount();
    const form = new URLSearchParams({ name: 'Form', type: 'imap', host: 'evil.example', authMethod: 'basic' }).toString();
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x', 'application/xml']) {
      const res = await postRaw('/v1/providers', form, { 'Content-Type': type }, 415);
      expect(res.body).toMatchObject({ statusCode: 415, error: 'Unsupported Media Type' });
      expect(res.body.message).toContain('Content-Type must be application/json');
    }
    const none = await rawRequest(api.url, { method: 'POST', path: '/v1/providers', headers: api.auth, body: '{"name":"x"}' });
    expect(none.status).toBe(415);
    expect(await providerCount()).toBe(before);
  });

  it('accepts application/json with a charset parameter', async () => {
    await postRaw('/v1/providers', JSON.stringify({ ...provider, name: 'Charset', domains: ['charset.example'] }), {
      'Content-Type': 'application/json; charset=utf-8',
    }, 201);
  });

  it('names the field holding a NUL character or a lone surrogate', async () => {
    const nul = await postRaw('/v1/providers', JSON.stringify({ ...provider, name: 'a\u0000b' }), { 'Content-Type': 'application/json' }, 400);
    expect(nul.body.message).toBe('name: must not contain NUL characters (\\u0000)');
    const surrogate = await postRaw('/v1/mailboxes', '{"email":"ana\\ud800@input-probe.example"}', { 'Content-Type': 'application/json' }, 400);
    expect(surrogate.body.message).toMatch(/^email: must be valid Unicode text/);
  });

  it('refuses JSON nested 3,000 levels deep with a 400, not a stack overflow', async () => {
    const deep = `{"name":${'['.repeat(3000)}${']'.repeat(3000)}}`;
    const res = await postRaw('/v1/providers', deep, { 'Content-Type': 'application/json' }, 400);
    expect(res.body.message).toMatch(/^name(\[0\])+: nested deeper than 32 levels$/);
  });

  it('refuses prototype keys as unknown fields instead of ignoring them', async () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const res = await postRaw('/v1/providers', `{"name":"P","type":"imap","host":"h.example","${key}":{"x":1}}`, { 'Content-Type': 'application/json' }, 400);
      expect(res.body.message).toBe(`${key}: unknown field`);
    }
  });

  it('refuses invalid UTF-8 instead of replacing it', async () => {
    const bytes = Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from('","type":"imap","host":"h.example"}')]);
    const res = await postRaw('/v1/providers', bytes, { 'Content-Type': 'application/json' }, 400);
    expect(res.body.message).toBe('Request body is not valid UTF-8');
  });

  it('refuses a body labelled UTF-16 or UTF-32, even when its bytes would pass as UTF-8', async () => {
    const body = Buffer.from(JSON.stringify({ ...provider, name: 'Utf16', domains: ['utf16.example'] }), 'utf16le');
    for (const charset of ['utf-16le', 'utf-16', 'utf-32', 'latin1']) {
      const res = await postRaw('/v1/providers', body, { 'Content-Type': `application/json; charset=${charset}` }, 415);
      expect(res.body.message).toBe('Content-Type charset is not supported: send UTF-8');
    }
  });

  it('names the path when a percent-escape in it is malformed or not UTF-8', async () => {
    for (const id of ['%ZZ', '%ED%A0%80', '%E0%A4']) {
      const res = await api.http.get(`/v1/providers/${id}`).set(api.auth).expect(400);
      expect(res.body.message).toBe('path: malformed percent-encoding (every %XX must spell UTF-8)');
    }
  });

  it('answers a body that is not the gzip its Content-Encoding says with a 400, on the API and on the Graph receiver', async () => {
    const notGzip = Buffer.from(JSON.stringify(provider));
    const res = await postRaw('/v1/providers', notGzip, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, 400);
    expect(res.body.message).toBe('Request body could not be decoded as its Content-Encoding says');
    const graph = await postRaw('/v1/graph/notifications', '{"value":[]}', { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, 400, false);
    expect(graph.body.statusCode).toBe(400);
    const unknown = await postRaw('/v1/providers', notGzip, { 'Content-Type': 'application/json', 'Content-Encoding': 'compress' }, 415);
    expect(unknown.body.message).toContain('Content-Encoding is not supported');
  });

  it('says where malformed JSON breaks without quoting it back (it could be a secret)', async () => {
    const res = await postRaw('/v1/mailboxes', '{"email":"ana@input-probe.example","password":hunter2-secret}', { 'Content-Type': 'application/json' }, 400);
    expect(res.body.message).toBe('Malformed JSON body: not valid JSON');
    expect(res.text).not.toContain('hunter2');
    const cut = await postRaw('/v1/mailboxes', '{"password":"hunter2-secret', { 'Content-Type': 'application/json' }, 400);
    expect(cut.body.message).toBe('Malformed JSON body: syntax error at character 27');
    expect(cut.text).not.toContain('hunter2');
    const notJson = await postRaw('/v1/mailboxes', 'password=hunter2-secret', { 'Content-Type': 'application/json' }, 400);
    expect(notJson.text).not.toContain('hunter2');
  });

  it('names a query parameter holding NUL or a lone surrogate, and refuses NUL in the path', async () => {
    const nul = await api.http.get('/v1/providers/resolve?email=ana%00@input-probe.example').set(api.auth).expect(400);
    expect(nul.body.message).toBe('email: must not contain NUL characters (\\u0000)');
    const path = await api.http.get('/v1/mailboxes/%00').set(api.auth).expect(400);
    expect(path.body.message).toContain('path: must not contain NUL');
  });
});
