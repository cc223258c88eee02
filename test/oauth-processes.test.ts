import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createTestDatabase,
  ENTRY_POINTS,
  FakeEntraId,
  freePort,
  PUBLIC_CLIENT_ID,
  randomEncryptionKey,
  startAppProcess,
  TEST_API_KEY,
  TestDatabase,
  waitForHttpOk,
  WEB_CLIENT_ID,
  WEB_CLIENT_SECRET,
} from '@app/testing';
import { Agent, request } from 'undici';

/**
 * The built API and listener as real processes, logging at trace level, through sign-in, import, refresh
 * and app-only tokens against the fake Entra ID: no token or secret may appear in any log line.
 */
describe('OAuth in real processes: secrets never logged', () => {
  let db: TestDatabase;
  let entra: FakeEntraId;

  beforeAll(async () => {
    db = await createTestDatabase();
    entra = await FakeEntraId.start();
    entra.setDeviceCodeInterval(1);
    entra.registerApp({ clientId: PUBLIC_CLIENT_ID });
    entra.registerApp({ clientId: WEB_CLIENT_ID, clientSecret: WEB_CLIENT_SECRET });
  });

  afterAll(async () => {
    await entra?.stop();
    await db?.drop();
  });

  it('signs in, imports, refreshes and acquires app-only tokens without a secret in the output', async () => {
    const caFile = join(mkdtempSync(join(tmpdir(), 'ml-ca-')), 'ca.pem');
    writeFileSync(caFile, entra.caPem);
    const env: NodeJS.ProcessEnv = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'trace',
      DATABASE_URL: db.url,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: `test-proc-${Date.now()}`,
      API_KEYS: TEST_API_KEY,
      ENCRYPTION_KEY: randomEncryptionKey(),
      DATA_DIR: mkdtempSync(join(tmpdir(), 'ml-oauth-proc-')),
      API_HOST: '127.0.0.1',
      API_PORT: String(await freePort()),
      LISTENER_PORT: String(await freePort()),
      OAUTH_CA_FILE: caFile,
      // Production refuses loopback addresses: the fake identity server and the IMAP port live there.
      OUTBOUND_ALLOWED_NETWORKS: '127.0.0.0/8',
      // Every token is due at once, so the listener refreshes right after it starts.
      OAUTH_REFRESH_MIN_LEAD_SECONDS: '86400',
      OAUTH_REFRESH_CHECK_INTERVAL_MS: '200',
    };
    const api = startAppProcess(ENTRY_POINTS.api, env);
    const base = `http://127.0.0.1:${env.API_PORT}`;
    const headers = { Authorization: `Bearer ${TEST_API_KEY}`, 'Content-Type': 'application/json' };
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: response.status, body: (await response.text()) as string };
    };
    let listener;
    try {
      await waitForHttpOk(`${base}/health/ready`, api);
      const oauth = { clientId: PUBLIC_CLIENT_ID, tenant: 'organizations', authorityHost: entra.authorityHost };
      const provider = JSON.parse((await call('POST', '/v1/providers', { name: 'C', type: 'imap', host: '127.0.0.1', port: await freePort(), secure: false, authMethod: 'oauth2', oauth, domains: ['contoso.com'] })).body);
      const tenant = entra.tenantIdFor('contoso.com');
      const appOnly = JSON.parse(
        (await call('POST', '/v1/providers', { name: 'A', type: 'microsoft-graph', authMethod: 'oauth2', oauth: { ...oauth, clientId: WEB_CLIENT_ID, clientSecret: WEB_CLIENT_SECRET, tenant, appOnly: true }, domains: ['app.contoso.com'] })).body,
      );
      expect(provider.id).toBeDefined();

      // Device code sign-in.
      entra.addUser({ username: 'ana@contoso.com' });
      const ana = JSON.parse((await call('POST', '/v1/mailboxes', { email: 'ana@contoso.com' })).body);
      const device = JSON.parse((await call('POST', `/v1/mailboxes/${ana.id}/oauth/device-code`)).body);
      entra.approveDeviceCode(device.userCode, 'ana@contoso.com');

      // Import a refresh token obtained elsewhere.
      entra.addUser({ username: 'bo@contoso.com' });
      const bo = JSON.parse((await call('POST', '/v1/mailboxes', { email: 'bo@contoso.com' })).body);
      const tls = new Agent({ connect: { ca: entra.caPem } });
      const form = (fields: Record<string, string>) => ({ method: 'POST' as const, dispatcher: tls, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
      const code = (await (await request(entra.deviceCodeEndpoint(), form({ client_id: PUBLIC_CLIENT_ID, scope: 'offline_access https://outlook.office.com/IMAP.AccessAsUser.All' }))).body.json()) as { device_code: string; user_code: string };
      entra.approveDeviceCode(code.user_code, 'bo@contoso.com');
      const tokens = (await (await request(entra.tokenEndpoint(), form({ client_id: PUBLIC_CLIENT_ID, grant_type: 'device_code', device_code: code.device_code }))).body.json()) as { refresh_token: string };
      await tls.close();
      const imported = await call('PUT', `/v1/mailboxes/${bo.id}/token`, { refreshToken: tokens.refresh_token });
      expect(imported.status).toBe(200);
      const badImport = await call('PUT', `/v1/mailboxes/${bo.id}/token`, { refreshToken: 'LEAK-bogus-refresh-token' });
      expect(badImport.status).toBe(400);
      expect((await call('POST', `/v1/providers/${appOnly.id}/oauth/app-token`)).status).toBe(200);

      // The listener refreshes everything (lead = a day).
      const deadline = Date.now() + 20_000;
      while (JSON.parse((await call('GET', `/v1/mailboxes/${ana.id}/status`)).body).token.state !== 'active' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      listener = startAppProcess(ENTRY_POINTS.listener, env);
      await waitForHttpOk(`http://127.0.0.1:${env.LISTENER_PORT}/health/ready`, listener);
      const refreshed = () => entra.tokenRequests.filter((r) => r.grantType === 'refresh_token' && r.status === 200).map((r) => r.username);
      while (!(refreshed().includes('ana@contoso.com') && refreshed().filter((u) => u === 'bo@contoso.com').length >= 2) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(refreshed()).toEqual(expect.arrayContaining(['ana@contoso.com', 'bo@contoso.com']));
      const responses = [await call('GET', `/v1/mailboxes/${ana.id}/status`), await call('GET', `/v1/mailboxes/${bo.id}/status`), await call('GET', `/v1/providers/${appOnly.id}`)];

      expect(await listener.stop()).toBe(0);
      expect(await api.stop()).toBe(0);
      const output = api.output() + listener.output();
      const secrets = [
        WEB_CLIENT_SECRET,
        TEST_API_KEY,
        env.ENCRYPTION_KEY!,
        tokens.refresh_token,
        code.device_code,
        ...entra.issuedAccessTokens.map((t) => t.token),
        ...entra.liveRefreshTokens('ana@contoso.com'),
        ...entra.liveRefreshTokens('bo@contoso.com'),
        'LEAK-',
      ];
      expect(entra.issuedAccessTokens.length).toBeGreaterThanOrEqual(4);
      for (const secret of secrets) {
        expect(output.includes(secret)).toBe(false);
        for (const response of responses) expect(response.body.includes(secret)).toBe(false);
      }
      expect(output).toContain('"msg":"request completed"');
    } finally {
      await listener?.stop('SIGKILL');
      await api.stop('SIGKILL');
    }
  }, 60_000);
});
