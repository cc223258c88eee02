import { queryDatabase, RunningApi, TestDatabase, useApiSuite } from '@app/testing';

/**
 * Field rules of the request bodies, query and path parameters, checked through the real API: `null` only
 * where the OpenAPI document says it clears a field, a 400 naming the field everywhere else; host names;
 * pagination numbers; ids in paths; and the OpenAPI document stating the same limits the API enforces.
 */
describe('API input rules (real app, real Postgres and Redis)', () => {
  const suite = useApiSuite();
  let db: TestDatabase;
  let api: RunningApi;
  let basicProvider: { id: string };
  let oauthProvider: { id: string };
  let mailbox: { id: string };
  let oauthMailbox: { id: string };

  const imap = { name: 'Rules IMAP', type: 'imap', host: 'imap.rules.test', domains: ['rules.test'] };
  const oauth = { name: 'Rules OAuth', type: 'imap', host: 'outlook.office365.com', authMethod: 'oauth2', oauth: { clientId: 'client-1', clientSecret: 'client-secret-1' }, domains: ['oauth.rules.test'] };

  beforeAll(async () => {
    ({ db, api } = suite);
    basicProvider = (await api.http.post('/v1/providers').set(api.auth).send(imap).expect(201)).body;
    oauthProvider = (await api.http.post('/v1/providers').set(api.auth).send(oauth).expect(201)).body;
    mailbox = (await api.http.post('/v1/mailboxes').set(api.auth).send({ email: 'ana@rules.test', password: 'pw-1', externalId: 'crm-1', folders: ['INBOX', 'Sales'] }).expect(201)).body;
    oauthMailbox = (await api.http.post('/v1/mailboxes').set(api.auth).send({ email: 'bo@oauth.rules.test' }).expect(201)).body;
  });

  const snapshot = async () =>
    JSON.stringify([
      await queryDatabase(db.url, 'SELECT * FROM providers ORDER BY id'),
      await queryDatabase(db.url, 'SELECT * FROM provider_domains ORDER BY domain'),
      await queryDatabase(db.url, 'SELECT * FROM mailboxes ORDER BY id'),
      await queryDatabase(db.url, 'SELECT * FROM mailbox_folders ORDER BY id'),
      await queryDatabase(db.url, 'SELECT * FROM mailbox_credentials ORDER BY mailbox_id'),
      await queryDatabase(db.url, 'SELECT id, state FROM oauth_tokens ORDER BY id'),
    ]);

  /** `{ a: { b: null } }` for the path `a.b` on top of `base`. */
  const withNull = (base: Record<string, unknown>, path: string): Record<string, unknown> => {
    const [head, ...rest] = path.split('.');
    return { ...base, [head]: rest.length ? withNull((base[head] as Record<string, unknown>) ?? {}, rest.join('.')) : null };
  };

  describe('null is refused with a 400 naming the field, except where it clears a field; nothing is written', () => {
    const providerFields = ['name', 'type', 'host', 'port', 'secure', 'verifyCertificate', 'loadEmails', 'sendEmails', 'loginFormat', 'authMethod', 'graphBaseUrl', 'domains', 'oauth'];
    const oauthFields = ['clientId', 'clientSecret', 'tenant', 'authorityHost', 'scopes', 'issuer', 'appOnly'].map((field) => `oauth.${field}`);
    const cases: [string, () => { method: 'post' | 'patch' | 'put'; path: string; body: Record<string, unknown> }][] = [
      ...[...providerFields, ...oauthFields].map((field): [string, () => { method: 'post'; path: string; body: Record<string, unknown> }] => [
        `POST /v1/providers ${field}`,
        () => ({ method: 'post', path: '/v1/providers', body: withNull({ ...oauth, name: 'Another', domains: ['another.test'] }, field) }),
      ]),
      ...[...providerFields, ...oauthFields].map((field): [string, () => { method: 'patch'; path: string; body: Record<string, unknown> }] => [
        `PATCH /v1/providers/:id ${field}`,
        () => ({ method: 'patch', path: `/v1/providers/${oauthProvider.id}`, body: withNull({}, field) }),
      ]),
      ...['email', 'providerId', 'login', 'password', 'folders', 'enabled'].map((field): [string, () => { method: 'post'; path: string; body: Record<string, unknown> }] => [
        `POST /v1/mailboxes ${field}`,
        () => ({ method: 'post', path: '/v1/mailboxes', body: withNull({ email: 'cy@rules.test', password: 'pw-2' }, field) }),
      ]),
      ...['login', 'password', 'folders', 'enabled'].map((field): [string, () => { method: 'patch'; path: string; body: Record<string, unknown> }] => [
        `PATCH /v1/mailboxes/:id ${field}`,
        () => ({ method: 'patch', path: `/v1/mailboxes/${mailbox.id}`, body: withNull({}, field) }),
      ]),
      ...['refreshToken', 'accessToken', 'expiresAt'].map((field): [string, () => { method: 'put'; path: string; body: Record<string, unknown> }] => [
        `PUT /v1/mailboxes/:id/token ${field}`,
        () => ({ method: 'put', path: `/v1/mailboxes/${oauthMailbox.id}/token`, body: withNull({ refreshToken: 'rt-1' }, field) }),
      ]),
    ];

    it.each(cases)('%s: null', async (label, request) => {
      const field = label.split(' ').pop()!;
      const { method, path, body } = request();
      const before = await snapshot();
      const res = await api.http[method](path).set(api.auth).send(body);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: `${field}: must not be null` });
      expect(await snapshot()).toBe(before);
    });

    it('externalId: null clears it on PATCH and means "none" on create; backfillSince: null means no backfill', async () => {
      const created = await api.http.post('/v1/mailboxes').set(api.auth).send({ email: 'dee@rules.test', password: 'pw-3', externalId: null, backfillSince: null }).expect(201);
      expect(created.body).toMatchObject({ externalId: null, backfillSince: null });
      const cleared = await api.http.patch(`/v1/mailboxes/${mailbox.id}`).set(api.auth).send({ externalId: null }).expect(200);
      expect(cleared.body).toMatchObject({ externalId: null, folders: ['INBOX', 'Sales'], enabled: true, hasPassword: true });
    });
  });

  describe('host: a DNS name or an IP literal', () => {
    it.each([':::::', '::::', '1.2.3.999', '999', '-mail.contoso.com', 'mail..contoso.com', 'mail_contoso.com', 'fe80::1%eth0', '[::1]', 'mail.contoso.com.', `${'a'.repeat(64)}.com`, 'exa mple.com'])(
      'refuses %j',
      async (host) => {
        const res = await api.http.post('/v1/providers').set(api.auth).send({ ...imap, name: 'Bad host', domains: [], host });
        expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(/^host: must be a DNS name or an IP address/) });
      },
    );

    it.each(['localhost', 'mail.contoso.com', 'OUTLOOK.office365.com', '127.0.0.1', '::1', '2001:db8::25', '::ffff:192.0.2.1', 'xn--bcher-kva.example'])('accepts %j', async (host) => {
      const res = await api.http.post('/v1/providers').set(api.auth).send({ ...imap, name: `Host ${host}`, domains: [], host }).expect(201);
      expect(res.body.host).toBe(host.toLowerCase());
      await api.http.delete(`/v1/providers/${res.body.id}`).set(api.auth).expect(204);
    });
  });

  describe('pagination numbers', () => {
    it.each([
      ['offset', '1e21'],
      ['offset', '99999999999999999999999'],
      ['offset', '0x10'],
      ['offset', '-1'],
      ['offset', '1.5'],
      ['limit', '1e2'],
      ['limit', ''],
      ['limit', 'Infinity'],
    ])('%s=%s is a 400 naming it', async (name, value) => {
      for (const path of ['/v1/providers', '/v1/mailboxes']) {
        const res = await api.http.get(`${path}?${name}=${encodeURIComponent(value)}`).set(api.auth);
        expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(new RegExp(`^${name}: `)) });
      }
    });

    it('a large but valid offset is an empty page', async () => {
      const res = await api.http.get('/v1/mailboxes?offset=9007199254740991').set(api.auth).expect(200);
      expect(res.body).toMatchObject({ items: [], offset: 9007199254740991 });
    });
  });

  describe('ids in paths', () => {
    const routes: [string, string][] = [
      ['get', '/v1/providers/:id'],
      ['patch', '/v1/providers/:id'],
      ['delete', '/v1/providers/:id'],
      ['post', '/v1/providers/:id/oauth/app-token'],
      ['get', '/v1/mailboxes/:id'],
      ['patch', '/v1/mailboxes/:id'],
      ['delete', '/v1/mailboxes/:id'],
      ['get', '/v1/mailboxes/:id/status'],
      ['post', '/v1/mailboxes/:id/resync'],
      ['post', '/v1/mailboxes/:id/oauth/device-code'],
      ['get', '/v1/mailboxes/:id/oauth/authorize'],
      ['put', '/v1/mailboxes/:id/token'],
      ['delete', '/v1/mailboxes/:id/token'],
    ];
    const oddIds = ['%00', 'not-a-uuid', '%27%20OR%201%3D1', '%F0%9F%98%80', '00000000-0000-4000-8000-00000000000g', '00000000-0000-4000-8000-0000000000000'];

    it.each(routes)('%s %s: an id that is not a UUID is a 400 naming id', async (method, route) => {
      for (const id of oddIds) {
        const res = await (api.http as any)[method](route.replace(':id', id)).set(api.auth).send(method === 'put' ? { refreshToken: 'rt' } : {});
        // A NUL byte may already be refused for the whole path by the body/URL hygiene layer, naming `path`.
        const message = id === '%00' ? expect.stringMatching(/^(id: must be a UUID|path: must not contain NUL)/) : 'id: must be a UUID';
        expect([id, res.body]).toEqual([id, { statusCode: 400, error: 'Bad Request', message }]);
      }
    });

    it.each(routes)('%s %s: an unknown UUID is a 404 (never a 500)', async (method, route) => {
      const res = await (api.http as any)[method](route.replace(':id', '00000000-0000-4000-8000-000000000000')).set(api.auth).send(method === 'put' ? { refreshToken: 'rt' } : {});
      expect(res.status).toBe(404);
    });
  });

  describe('the OpenAPI document states the limits the API enforces', () => {
    let schemas: Record<string, { properties: Record<string, any>; required?: string[] }>;

    beforeAll(async () => {
      schemas = (await api.http.get('/docs/openapi.json').expect(200)).body.components.schemas;
    });

    const requestSchemas = () => Object.keys(schemas).filter((name) => /Dto$/.test(name));

    it('every string of a request body has a maxLength (or is an enum), every array a maxItems', () => {
      const missing: string[] = [];
      for (const name of requestSchemas()) {
        for (const [field, schema] of Object.entries(schemas[name].properties)) {
          const item = schema.type === 'array' ? schema.items : schema;
          if (schema.type === 'array' && schema.maxItems === undefined) missing.push(`${name}.${field}: maxItems`);
          if (item?.type === 'string' && item.enum === undefined && item.maxLength === undefined) missing.push(`${name}.${field}: maxLength`);
        }
      }
      expect(requestSchemas().length).toBeGreaterThanOrEqual(6);
      expect(missing).toEqual([]);
    });

    it('ports are integers; host, domains and tenant carry their patterns; lengths match the rules', () => {
      for (const name of ['CreateProviderDto', 'UpdateProviderDto']) {
        const { properties } = schemas[name];
        expect(properties.port).toMatchObject({ type: 'integer', minimum: 1, maximum: 65535 });
        expect(properties.host).toMatchObject({ type: 'string', maxLength: 253, pattern: expect.any(String) });
        expect(properties.domains.items).toMatchObject({ type: 'string', maxLength: 253, pattern: expect.any(String) });
        expect(properties.name).toMatchObject({ maxLength: 200 });
      }
      expect(schemas.OAuthSettingsDto.properties.tenant).toMatchObject({ pattern: expect.any(String) });
      expect(schemas.OAuthSettingsDto.properties.clientSecret).toMatchObject({ maxLength: 2048, writeOnly: true });
      expect(schemas.CreateMailboxDto.properties.email).toMatchObject({ maxLength: 320 });
      expect(schemas.CreateMailboxDto.required).toEqual(['email']);
      // The documented patterns are the enforced ones: what the pattern refuses, the API refuses.
      const host = new RegExp(schemas.CreateProviderDto.properties.host.pattern);
      expect([':::::', 'mail.contoso.com', '::1', '1.2.3.999'].map((h) => host.test(h))).toEqual([false, true, true, false]);
    });

    it('only the fields that accept null say so, with what null means', () => {
      const nullable: string[] = [];
      for (const name of requestSchemas()) {
        for (const [field, schema] of Object.entries(schemas[name].properties)) {
          if (schema.nullable) {
            nullable.push(`${name}.${field}`);
            expect(schema.description).toMatch(/null/);
          }
        }
      }
      expect(nullable.sort()).toEqual([
        'CreateMailboxDto.backfillSince',
        'CreateMailboxDto.externalId',
        'CreateWebhookDto.description',
        'UpdateMailboxDto.externalId',
        'UpdateWebhookDto.description',
      ]);
    });
  });
});
