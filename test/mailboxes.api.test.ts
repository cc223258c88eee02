import { queryDatabase, RunningApi, TestDatabase, useApiSuite } from '@app/testing';

describe('mailboxes API (real app, real Postgres and Redis)', () => {
  const suite = useApiSuite();
  let db: TestDatabase;
  let api: RunningApi;
  let basicProvider: { id: string };
  let oauthProvider: { id: string };
  let manualProvider: { id: string };
  let localPartProvider: { id: string };

  beforeAll(async () => {
    ({ db, api } = suite);
    const create = async (body: object) => (await api.http.post('/v1/providers').set(api.auth).send(body).expect(201)).body;
    basicProvider = await create({ name: 'Dovecot', type: 'imap', host: 'imap.contoso.com', domains: ['contoso.com'] });
    oauthProvider = await create({ name: 'M365', type: 'imap', host: 'outlook.office365.com', authMethod: 'oauth2', oauth: { clientId: 'c' }, domains: ['fabrikam.com'] });
    manualProvider = await create({ name: 'Manual', type: 'imap', host: 'mail.manual.test', loginFormat: 'manual', domains: ['manual.test'] });
    localPartProvider = await create({ name: 'Local', type: 'imap', host: 'mail.local.test', loginFormat: 'local-part', domains: ['local.test'] });
  });

  const post = (body: object) => api.http.post('/v1/mailboxes').set(api.auth).send(body);

  it('creates a mailbox, picking the provider by domain and deriving the login', async () => {
    const res = await post({ email: 'Ana@Contoso.com', password: 'pw-ana-123', externalId: 'crm-1' }).expect(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      email: 'ana@contoso.com',
      providerId: basicProvider.id,
      login: 'ana@contoso.com',
      folders: ['INBOX'],
      externalId: 'crm-1',
      enabled: true,
      hasPassword: true,
      backfillSince: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(JSON.stringify(res.body)).not.toContain('pw-ana-123');
  });

  it('derives the login per format: local-part, manual', async () => {
    const local = await post({ email: 'bo@local.test', password: 'x' }).expect(201);
    expect(local.body.login).toBe('bo');
    const manual = await post({ email: 'cy@manual.test', password: 'x', login: 'DOMAIN\\cy' }).expect(201);
    expect(manual.body.login).toBe('DOMAIN\\cy');
    expect(manual.body.providerId).toBe(manualProvider.id);
    const missing = await post({ email: 'dee@manual.test', password: 'x' }).expect(400);
    expect(missing.body.message).toMatch(/^login: is required because provider "Manual" uses the manual login format/);
    const notAllowed = await post({ email: 'eve@contoso.com', password: 'x', login: 'eve' }).expect(400);
    expect(notAllowed.body.message).toMatch(/^login: only accepted when the provider's loginFormat is manual/);
  });

  it('an explicit providerId wins over the domain', async () => {
    const res = await post({ email: 'fay@elsewhere.org', providerId: localPartProvider.id, password: 'x' }).expect(201);
    expect(res.body).toMatchObject({ providerId: localPartProvider.id, login: 'fay' });
  });

  it('changing a provider login format re-derives its mailboxes logins', async () => {
    await api.http.patch(`/v1/providers/${localPartProvider.id}`).set(api.auth).send({ loginFormat: 'email' }).expect(200);
    const list = await api.http.get(`/v1/mailboxes?providerId=${localPartProvider.id}`).set(api.auth).expect(200);
    expect(list.body.items.map((m: { login: string }) => m.login).sort()).toEqual(['bo@local.test', 'fay@elsewhere.org']);
  });

  it('a duplicate mailbox is a 409', async () => {
    const res = await post({ email: 'ANA@contoso.com', password: 'other' }).expect(409);
    expect(res.body).toEqual({ statusCode: 409, error: 'Conflict', message: expect.stringMatching(/^email: a mailbox for ana@contoso.com already exists \(id /) });
  });

  describe('bad input is a 400 naming the field, and nothing is written', () => {
    const cases: [string, object, RegExp][] = [
      ['email without @', { email: 'ana.contoso.com', password: 'x' }, /^email: must be an email address/],
      ['unknown provider id', { email: 'gus@contoso.com', providerId: '00000000-0000-4000-8000-000000000000', password: 'x' }, /^providerId: no provider with id/],
      ['malformed provider id', { email: 'gus@contoso.com', providerId: 'abc', password: 'x' }, /^providerId: must be a UUID/],
      ['no provider for the domain', { email: 'gus@nowhere.example', password: 'x' }, /^providerId: no provider serves the domain nowhere.example/],
      ['manual format without login', { email: 'gus@manual.test', password: 'x' }, /^login: is required/],
      ['basic provider without password', { email: 'gus@contoso.com' }, /^password: is required because provider "Dovecot" uses basic authentication/],
      ['password for an OAuth provider', { email: 'gus@fabrikam.com', password: 'x' }, /^password: not accepted because provider "M365" uses OAuth 2.0/],
      ['unknown field', { email: 'gus@contoso.com', password: 'x', colour: 1 }, /^colour: unknown field/],
      ['wrong type', { email: 'gus@contoso.com', password: 'x', enabled: 'yes' }, /^enabled: must be a boolean value/],
      ['empty folder list', { email: 'gus@contoso.com', password: 'x', folders: [] }, /^folders: must contain at least 1 elements/],
      ['duplicate folders', { email: 'gus@contoso.com', password: 'x', folders: ['INBOX', 'INBOX'] }, /^folders: must not list the same folder twice/],
    ];

    it.each(cases)('%s', async (_label, body, message) => {
      const res = await post(body).expect(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(message) });
      const rows = await queryDatabase(db.url, `SELECT count(*)::int AS n FROM mailboxes WHERE email LIKE 'gus@%'`);
      expect(rows[0].n).toBe(0);
    });
  });

  it('gets, lists with filters and pagination', async () => {
    const list = await api.http.get('/v1/mailboxes?limit=2').set(api.auth).expect(200);
    expect(list.body).toMatchObject({ total: 4, limit: 2, offset: 0 });
    expect(list.body.items).toHaveLength(2);
    const byExternal = await api.http.get('/v1/mailboxes?externalId=crm-1').set(api.auth).expect(200);
    expect(byExternal.body.items.map((m: { email: string }) => m.email)).toEqual(['ana@contoso.com']);
    const byEmail = await api.http.get('/v1/mailboxes').query({ email: 'BO@local.test' }).set(api.auth).expect(200);
    expect(byEmail.body.total).toBe(1);
    const one = await api.http.get(`/v1/mailboxes/${byExternal.body.items[0].id}`).set(api.auth).expect(200);
    expect(one.body.email).toBe('ana@contoso.com');
    await api.http.get('/v1/mailboxes?enabled=maybe').set(api.auth).expect(400);
    await api.http.get('/v1/mailboxes/00000000-0000-4000-8000-000000000000').set(api.auth).expect(404);
  });

  it('lists by a search in the address or the external id, and by connection state as the mailboxes gauge counts it', async () => {
    const emails = async (query: Record<string, string>) =>
      (await api.http.get('/v1/mailboxes').query(query).set(api.auth).expect(200)).body.items.map((m: { email: string }) => m.email).sort();
    const all = (await api.http.get('/v1/mailboxes').set(api.auth).expect(200)).body.items.map((m: { email: string }) => m.email).sort();
    expect(await emails({ search: 'ANA@' })).toEqual(['ana@contoso.com']);
    expect(await emails({ search: 'crm-1' })).toEqual(['ana@contoso.com']);
    expect(await emails({ search: '%' })).toEqual([]); // a literal %, not a wildcard
    expect(await emails({ search: '  ' })).toEqual(all); // blank: no search
    expect(await emails({ state: 'pending' })).toEqual(all); // no listener here: every enabled mailbox waits for one
    const ana = (await api.http.get('/v1/mailboxes?externalId=crm-1').set(api.auth)).body.items[0];
    await queryDatabase(db.url, `UPDATE mailbox_status SET connection_state = 'connected' WHERE mailbox_id = $1`, [ana.id]);
    try {
      expect(await emails({ state: 'connected' })).toEqual(['ana@contoso.com']);
      expect(await emails({ state: 'connected', search: 'local.test' })).toEqual([]);
      expect((await api.http.get('/v1/mailboxes').query({ state: 'pending' }).set(api.auth).expect(200)).body.total).toBe(all.length - 1);
    } finally {
      await queryDatabase(db.url, `UPDATE mailbox_status SET connection_state = 'pending' WHERE mailbox_id = $1`, [ana.id]);
    }
    const bad = await api.http.get('/v1/mailboxes?state=online').set(api.auth).expect(400);
    expect(bad.body.message).toMatch(/^state: must be one of pending, connecting, connected, backoff, auth_error, disabled/);
  });

  it('patches folders (kept folders keep their rows), external id, password and enabled', async () => {
    const ana = (await api.http.get('/v1/mailboxes?externalId=crm-1').set(api.auth)).body.items[0];
    const [inboxBefore] = await queryDatabase<{ id: string }>(db.url, `SELECT id FROM mailbox_folders WHERE mailbox_id = $1 AND path = 'INBOX'`, [ana.id]);
    const patched = await api.http
      .patch(`/v1/mailboxes/${ana.id}`)
      .set(api.auth)
      .send({ folders: ['INBOX', 'Sales'], externalId: null, password: 'new-password-1', enabled: false })
      .expect(200);
    expect(patched.body).toMatchObject({ folders: ['INBOX', 'Sales'], externalId: null, enabled: false, hasPassword: true });
    const [inboxAfter] = await queryDatabase<{ id: string }>(db.url, `SELECT id FROM mailbox_folders WHERE mailbox_id = $1 AND path = 'INBOX'`, [ana.id]);
    expect(inboxAfter.id).toBe(inboxBefore.id);
    const status = await api.http.get(`/v1/mailboxes/${ana.id}/status`).set(api.auth).expect(200);
    expect(status.body.connection.state).toBe('disabled');
    expect(status.body.recommendedAction).toMatch(/disabled/);
    await api.http.patch(`/v1/mailboxes/${ana.id}`).set(api.auth).send({ email: 'other@contoso.com' }).expect(400);
    await api.http.patch(`/v1/mailboxes/${ana.id}`).set(api.auth).send({ login: 'x' }).expect(400);
  });

  it('reports status: pending for a new password mailbox, not_obtained token for an OAuth one', async () => {
    const neverSynced = { uidValidity: null, lastUid: null, lastSyncedAt: null, subscriptionId: null, subscriptionExpiresAt: null, lastNotificationAt: null, lastDeltaAt: null };
    const basic = await post({ email: 'hal@contoso.com', password: 'x', folders: ['INBOX', 'Archive'] }).expect(201);
    const status = await api.http.get(`/v1/mailboxes/${basic.body.id}/status`).set(api.auth).expect(200);
    expect(status.body).toEqual({
      mailboxId: basic.body.id,
      connection: { state: 'pending', since: expect.any(String), lastError: null },
      token: null,
      sync: {
        lastEventAt: null,
        lagSeconds: null,
        folders: [
          { name: 'INBOX', mode: 'idle', ...neverSynced },
          { name: 'Archive', mode: 'idle', ...neverSynced },
        ],
      },
      sending: { lastError: null },
      owner: null,
      recommendedAction: expect.stringMatching(/Waiting for a listener/),
    });

    const oauth = await post({ email: 'ivy@fabrikam.com' }).expect(201);
    expect(oauth.body.hasPassword).toBe(false);
    const oauthStatus = await api.http.get(`/v1/mailboxes/${oauth.body.id}/status`).set(api.auth).expect(200);
    expect(oauthStatus.body.token).toEqual({ state: 'not_obtained', expiresAt: null, lastRefreshAt: null, lastError: null, pendingAuthorization: null, account: null });
    expect(oauthStatus.body.recommendedAction).toMatch(/^Sign in/);
    await api.http.get('/v1/mailboxes/00000000-0000-4000-8000-000000000000/status').set(api.auth).expect(404);
  });

  it('refuses to delete a provider in use (409 with the count), then allows it once empty', async () => {
    const res = await api.http.delete(`/v1/providers/${manualProvider.id}`).set(api.auth).expect(409);
    expect(res.body.message).toMatch(/cannot be deleted: 1 mailbox\(es\) use it/);
    const changeType = await api.http.patch(`/v1/providers/${oauthProvider.id}`).set(api.auth).send({ authMethod: 'basic' }).expect(409);
    expect(changeType.body.message).toMatch(/^authMethod: cannot change from oauth2 to basic while 1 mailbox\(es\) use this provider/);
    const manualBox = (await api.http.get(`/v1/mailboxes?providerId=${manualProvider.id}`).set(api.auth)).body.items[0];
    await api.http.delete(`/v1/mailboxes/${manualBox.id}`).set(api.auth).expect(204);
    await api.http.delete(`/v1/mailboxes/${manualBox.id}`).set(api.auth).expect(404);
    await api.http.delete(`/v1/providers/${manualProvider.id}`).set(api.auth).expect(204);
  });

  it('stores secrets only as ciphertext and never returns them', async () => {
    const rows = await queryDatabase<{ password_encrypted: string }>(db.url, 'SELECT password_encrypted FROM mailbox_credentials');
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.password_encrypted).toMatch(/^v1\.[0-9a-f]{8}\./);
      for (const plain of ['pw-ana-123', 'new-password-1']) expect(row.password_encrypted).not.toContain(plain);
    }
    const dump = JSON.stringify(await queryDatabase(db.url, 'SELECT * FROM mailboxes')) + JSON.stringify(await queryDatabase(db.url, 'SELECT * FROM providers'));
    expect(dump).not.toContain('pw-ana-123');
    const list = await api.http.get('/v1/mailboxes?limit=500').set(api.auth).expect(200);
    expect(JSON.stringify(list.body)).not.toMatch(/pw-ana-123|new-password-1|password"/);
  });
});
