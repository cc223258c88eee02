import { RunningApi, useApiSuite } from '@app/testing';

const imapProvider = {
  name: 'Contoso IMAP',
  type: 'imap',
  host: 'outlook.office365.com',
  port: 993,
  secure: true,
  loginFormat: 'email',
  authMethod: 'basic',
  domains: ['contoso.com'],
};

const oauthProvider = {
  name: 'Fabrikam 365',
  type: 'microsoft-graph',
  authMethod: 'oauth2',
  oauth: { clientId: 'client-123', clientSecret: 'super-secret-client-value', tenant: 'organizations', authorityHost: 'https://login.microsoftonline.us' },
  domains: ['fabrikam.com', 'Fabrikam.NET'],
};

describe('providers API (real app, real Postgres and Redis)', () => {
  const suite = useApiSuite();

  let api: RunningApi;
  beforeAll(() => {
    api = suite.api;
  });

  it('creates an IMAP provider with defaults filled in', async () => {
    const res = await api.http.post('/v1/providers').set(api.auth).send(imapProvider).expect(201);
    expect(res.body).toMatchObject({
      id: expect.any(String),
      name: 'Contoso IMAP',
      type: 'imap',
      host: 'outlook.office365.com',
      port: 993,
      secure: true,
      verifyCertificate: true,
      loadEmails: true,
      sendEmails: false,
      loginFormat: 'email',
      authMethod: 'basic',
      oauth: null,
      domains: ['contoso.com'],
    });
  });

  it('creates an OAuth provider, never returning the client secret', async () => {
    const res = await api.http.post('/v1/providers').set(api.auth).send(oauthProvider).expect(201);
    expect(res.body.oauth).toEqual({
      clientId: 'client-123',
      hasClientSecret: true,
      tenant: 'organizations',
      authorityHost: 'https://login.microsoftonline.us',
      scopes: ['offline_access', 'https://graph.microsoft.com/Mail.Read'],
      issuer: 'microsoft',
      appOnly: false,
    });
    expect(res.body.graphBaseUrl).toBe('https://graph.microsoft.com/v1.0');
    expect(res.body.domains).toEqual(['fabrikam.com', 'fabrikam.net']);
    expect(JSON.stringify(res.body)).not.toContain('super-secret-client-value');
    const again = await api.http.get(`/v1/providers/${res.body.id}`).set(api.auth).expect(200);
    expect(JSON.stringify(again.body)).not.toContain('super-secret-client-value');
    const list = await api.http.get('/v1/providers').set(api.auth).expect(200);
    expect(JSON.stringify(list.body)).not.toContain('super-secret-client-value');
  });

  it('lists with pagination', async () => {
    const page1 = await api.http.get('/v1/providers?limit=1&offset=0').set(api.auth).expect(200);
    expect(page1.body).toMatchObject({ total: 2, limit: 1, offset: 0 });
    expect(page1.body.items).toHaveLength(1);
    const page2 = await api.http.get('/v1/providers?limit=1&offset=1').set(api.auth).expect(200);
    expect(page2.body.items[0].id).not.toEqual(page1.body.items[0].id);
    await api.http.get('/v1/providers?limit=0').set(api.auth).expect(400);
    const bad = await api.http.get('/v1/providers?limit=abc').set(api.auth).expect(400);
    expect(bad.body.message).toMatch(/^limit: /);
  });

  it('resolves a provider by the email domain, parent domains included', async () => {
    const exact = await api.http.get('/v1/providers/resolve').query({ email: 'ana@contoso.com' }).set(api.auth).expect(200);
    expect(exact.body.name).toBe('Contoso IMAP');
    const sub = await api.http.get('/v1/providers/resolve').query({ email: 'bo@eu.FABRIKAM.com' }).set(api.auth).expect(200);
    expect(sub.body.name).toBe('Fabrikam 365');
    const none = await api.http.get('/v1/providers/resolve').query({ email: 'x@unknown.org' }).set(api.auth).expect(404);
    expect(none.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'No provider serves the domain unknown.org' });
    const bad = await api.http.get('/v1/providers/resolve').query({ email: 'no-at-sign' }).set(api.auth).expect(400);
    expect(bad.body.message).toMatch(/^email: /);
  });

  it('patches settings and keeps the secret unless a new one is given', async () => {
    const created = await api.http.post('/v1/providers').set(api.auth).send({ ...oauthProvider, name: 'Patchable', domains: ['patch.example'] }).expect(201);
    const patched = await api.http
      .patch(`/v1/providers/${created.body.id}`)
      .set(api.auth)
      .send({ name: 'Patched', oauth: { tenant: 'contoso.onmicrosoft.com' }, sendEmails: true })
      .expect(200);
    expect(patched.body).toMatchObject({ name: 'Patched', sendEmails: true, oauth: { clientId: 'client-123', tenant: 'contoso.onmicrosoft.com', hasClientSecret: true } });
    await api.http.delete(`/v1/providers/${created.body.id}`).set(api.auth).expect(204);
    await api.http.get(`/v1/providers/${created.body.id}`).set(api.auth).expect(404);
  });

  it('derives SMTP settings and the Sent copy from the host, and keeps what the operator sets', async () => {
    const created = await api.http.post('/v1/providers').set(api.auth).send({ name: 'Smtp', type: 'imap', host: 'outlook.office365.com' }).expect(201);
    expect(created.body).toMatchObject({ smtp: { host: 'smtp.office365.com', port: 587, security: 'starttls' }, appendToSent: false });
    const gmail = await api.http.patch(`/v1/providers/${created.body.id}`).set(api.auth).send({ host: 'imap.gmail.com' }).expect(200);
    expect(gmail.body).toMatchObject({ smtp: { host: 'smtp.gmail.com', port: 465, security: 'tls' }, appendToSent: false });
    const own = await api.http
      .patch(`/v1/providers/${created.body.id}`)
      .set(api.auth)
      .send({ host: 'mail.example.org', smtp: { host: 'relay.example.org', port: 2525, security: 'none' }, appendToSent: true })
      .expect(200);
    expect(own.body).toMatchObject({ smtp: { host: 'relay.example.org', port: 2525, security: 'none' }, appendToSent: true });
    const again = await api.http.get(`/v1/providers/${created.body.id}`).set(api.auth).expect(200);
    expect(again.body).toMatchObject({ smtp: { host: 'relay.example.org', port: 2525, security: 'none' }, appendToSent: true });
    await api.http.delete(`/v1/providers/${created.body.id}`).set(api.auth).expect(204);
  });

  it('refuses a domain that another provider already serves (409)', async () => {
    const res = await api.http.post('/v1/providers').set(api.auth).send({ ...imapProvider, name: 'Dup', domains: ['contoso.com'] }).expect(409);
    expect(res.body.message).toMatch(/contoso\.com is already served by provider "Contoso IMAP"/);
    const list = await api.http.get('/v1/providers').set(api.auth).expect(200);
    expect(list.body.items.map((p: { name: string }) => p.name)).not.toContain('Dup');
  });

  describe('bad input is a 400 naming the field, and nothing is written', () => {
    const cases: [string, unknown, RegExp][] = [
      ['unknown field', { ...imapProvider, colour: 'blue' }, /^colour: unknown field/],
      ['wrong type', { ...imapProvider, port: '993' }, /port: must be an integer number/],
      ['host with a scheme', { ...imapProvider, host: 'imaps://mail.contoso.com' }, /^host: must be a DNS name or an IP address/],
      ['host with spaces', { ...imapProvider, host: 'mail contoso.com' }, /^host: must be a DNS name or an IP address/],
      ['port 0', { ...imapProvider, port: 0 }, /^port: must be between 1 and 65535/],
      ['port 70000', { ...imapProvider, port: 70000 }, /^port: must be between 1 and 65535/],
      ['oauth2 without client id', { ...imapProvider, authMethod: 'oauth2' }, /^oauth\.clientId: is required when authMethod is oauth2/],
      ['oauth2 with empty client id', { ...imapProvider, authMethod: 'oauth2', oauth: { clientId: '' } }, /oauth\.clientId: should not be empty/],
      ['neither load nor send', { ...imapProvider, loadEmails: false, sendEmails: false }, /loadEmails: at least one of loadEmails and sendEmails/],
      ['unknown type', { ...imapProvider, type: 'pop3' }, /^type: must be one of: imap, microsoft-graph/],
      ['unknown login format', { ...imapProvider, loginFormat: 'upn' }, /^loginFormat: must be one of/],
      ['bad domain', { ...imapProvider, domains: ['not a domain'] }, /^domains: each domain must look like contoso.com/],
      ['imap without host', { name: 'x', type: 'imap' }, /^host: is required for imap providers/],
      ['graph with basic auth', { name: 'x', type: 'microsoft-graph', authMethod: 'basic' }, /^authMethod: microsoft-graph providers need oauth2/],
      ['bad tenant', { ...imapProvider, authMethod: 'oauth2', oauth: { clientId: 'a', tenant: 'not a tenant' } }, /^oauth\.tenant: must be common/],
      ['missing name', { ...imapProvider, name: undefined }, /^name: /],
      ['a JSON array body', [imapProvider], /Request body must be a JSON object/],
      ['unknown SMTP security', { ...imapProvider, smtp: { security: 'ssl' } }, /^smtp\.security: must be one of: tls, starttls, none/],
      ['SMTP host with a port', { ...imapProvider, smtp: { host: 'smtp.contoso.com:587' } }, /^smtp\.host: must be a DNS name or an IP address/],
      ['SMTP port 0', { ...imapProvider, smtp: { port: 0 } }, /^smtp\.port: must be between 1 and 65535/],
      ['unknown SMTP field', { ...imapProvider, smtp: { tls: true } }, /^smtp\.tls: unknown field/],
      ['SMTP for a Graph provider', { name: 'x', type: 'microsoft-graph', oauth: { clientId: 'a' }, smtp: { port: 587 } }, /^smtp: only for imap providers/],
    ];

    it.each(cases)('%s', async (_label, body, message) => {
      const before = await api.http.get('/v1/providers').set(api.auth);
      const res = await api.http.post('/v1/providers').set(api.auth).send(body as object).expect(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(message) });
      const after = await api.http.get('/v1/providers').set(api.auth);
      expect(after.body.total).toBe(before.body.total);
    });

    it('malformed JSON', async () => {
      const res = await api.http.post('/v1/providers').set(api.auth).set('Content-Type', 'application/json').send('{"name": "x",').expect(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(/^Malformed JSON body/) });
    });

    it('a body over the size limit is a 413', async () => {
      const res = await api.http
        .post('/v1/providers')
        .set(api.auth)
        .send({ ...imapProvider, name: 'x'.repeat(300 * 1024) })
        .expect(413);
      expect(res.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
    });

    it('a non-UUID id is a 400, an unknown id a 404', async () => {
      await api.http.get('/v1/providers/not-a-uuid').set(api.auth).expect(400);
      const res = await api.http.get('/v1/providers/00000000-0000-4000-8000-000000000000').set(api.auth).expect(404);
      expect(res.body.message).toMatch(/not found/);
    });

    it('a PATCH that breaks a cross-field rule changes nothing', async () => {
      const list = await api.http.get('/v1/providers').set(api.auth);
      const contoso = list.body.items.find((p: { name: string }) => p.name === 'Contoso IMAP');
      const res = await api.http.patch(`/v1/providers/${contoso.id}`).set(api.auth).send({ loadEmails: false }).expect(400);
      expect(res.body.message).toMatch(/loadEmails/);
      const after = await api.http.get(`/v1/providers/${contoso.id}`).set(api.auth);
      expect(after.body.loadEmails).toBe(true);
    });
  });

  describe('API keys', () => {
    it('401 without a key, with a malformed header or a wrong key, on every /v1 route', async () => {
      for (const [method, path] of [
        ['get', '/v1/providers'],
        ['post', '/v1/providers'],
        ['get', '/v1/providers/resolve?email=a@b.com'],
        ['get', '/v1/mailboxes'],
        ['post', '/v1/mailboxes'],
        ['get', '/v1/mailboxes/00000000-0000-4000-8000-000000000000/status'],
      ] as const) {
        const none = await api.http[method](path).expect(401);
        expect(none.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.stringMatching(/Missing Authorization header/) });
        await api.http[method](path).set('Authorization', 'Basic abc').expect(401);
        const wrong = await api.http[method](path).set('Authorization', 'Bearer wrong-key-wrong-key-wrong').expect(401);
        expect(wrong.body.message).toBe('Invalid API key');
      }
    });

    it('health, metrics and docs need no key', async () => {
      await api.http.get('/health/live').expect(200);
      await api.http.get('/metrics').expect(200);
      await api.http.get('/docs/openapi.json').expect(200);
    });
  });
});
