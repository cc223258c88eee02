import { createTestDatabase, ENTRY_POINTS, freePort, randomEncryptionKey, startAppProcess, TEST_API_KEY, TestDatabase, waitForHttpOk } from '@app/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The built apps run as real processes, the way `npm run start:api` / `start:listener` run them. */
describe('app processes (real Postgres and Redis)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await db?.drop();
  });

  async function baseEnv(): Promise<NodeJS.ProcessEnv> {
    return {
      NODE_ENV: 'production',
      DATABASE_URL: db.url,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      API_KEYS: TEST_API_KEY,
      ENCRYPTION_KEY: randomEncryptionKey(),
      DATA_DIR: mkdtempSync(join(tmpdir(), 'ml-proc-')),
      API_HOST: '127.0.0.1',
      API_PORT: String(await freePort()),
      LISTENER_PORT: String(await freePort()),
    };
  }

  it('the API never writes a secret, a password or the API key to its logs, even at trace level', async () => {
    const env: NodeJS.ProcessEnv = { ...(await baseEnv()), LOG_LEVEL: 'trace' };
    const api = startAppProcess(ENTRY_POINTS.api, env);
    const base = `http://127.0.0.1:${env.API_PORT}`;
    try {
      await waitForHttpOk(`${base}/health/ready`, api);
      const headers = { Authorization: `Bearer ${TEST_API_KEY}`, 'Content-Type': 'application/json' };
      const provider = await fetch(`${base}/v1/providers`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ name: 'L', type: 'imap', host: '127.0.0.1', port: await freePort(), secure: false, authMethod: 'oauth2', oauth: { clientId: 'c', clientSecret: 'LEAK-client-secret' }, domains: ['log.test'] }),
      });
      expect(provider.status).toBe(201);
      const basic = await fetch(`${base}/v1/providers`, { method: 'POST', headers, body: JSON.stringify({ name: 'B', type: 'imap', host: '127.0.0.1', port: await freePort(), secure: false, domains: ['b.test'] }) });
      const basicId = ((await basic.json()) as { id: string }).id;
      const mailbox = await fetch(`${base}/v1/mailboxes`, { method: 'POST', headers, body: JSON.stringify({ email: 'x@b.test', providerId: basicId, password: 'LEAK-password' }) });
      expect(mailbox.status).toBe(201);
      // Failing requests too: a bad body carrying a password, a malformed body, a wrong key.
      await fetch(`${base}/v1/mailboxes`, { method: 'POST', headers, body: JSON.stringify({ email: 'bad', password: 'LEAK-password-2' }) });
      await fetch(`${base}/v1/mailboxes`, { method: 'POST', headers, body: '{"password": "LEAK-password-3",' });
      await fetch(`${base}/v1/providers?code=LEAK-oauth-code`, { headers: { Authorization: 'Bearer LEAK-wrong-api-key-123' } });
      expect(await api.stop()).toBe(0);
      const output = api.output();
      expect(output).toContain('"msg":"request completed"');
      expect(output).not.toMatch(/LEAK-/);
      expect(output).not.toContain(TEST_API_KEY);
      expect(output).not.toContain(env.ENCRYPTION_KEY!);
    } finally {
      await api.stop('SIGKILL');
    }
  });

  it('the listener boots, serves health and metrics, and stops cleanly on SIGTERM', async () => {
    const env = await baseEnv();
    const listener = startAppProcess(ENTRY_POINTS.listener, env);
    const base = `http://127.0.0.1:${env.LISTENER_PORT}`;
    try {
      await waitForHttpOk(`${base}/health/ready`, listener);
      const ready = (await (await fetch(`${base}/health/ready`)).json()) as { details: Record<string, { status: string }> };
      expect(ready.details).toEqual({ database: { status: 'up' }, redis: { status: 'up' } });
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain;.*version=0\.0\.4/);
      const text = await metrics.text();
      expect(text).toMatch(/^mail_listener_process_resident_memory_bytes\{app="listener"\} \d+/m);
      const started = Date.now();
      expect(await listener.stop('SIGTERM')).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await listener.stop('SIGKILL');
    }
  });

  it('readiness fails (503, naming Redis) while liveness holds when Redis is unreachable', async () => {
    const env: NodeJS.ProcessEnv = { ...(await baseEnv()), REDIS_URL: `redis://127.0.0.1:${await freePort()}` };
    const listener = startAppProcess(ENTRY_POINTS.listener, env);
    const base = `http://127.0.0.1:${env.LISTENER_PORT}`;
    try {
      await waitForHttpOk(`${base}/health/live`, listener);
      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { error: Record<string, { status: string }> };
      expect(body.error.redis.status).toBe('down');
      expect(body.error.database).toBeUndefined();
    } finally {
      await listener.stop();
    }
  });

  it('an invalid configuration stops the process at start with one line per problem', async () => {
    const api = startAppProcess(ENTRY_POINTS.api, { NODE_ENV: 'production', API_PORT: '70000', REDIS_URL: 'http://x', ENCRYPTION_KEY: 'short' });
    expect(await api.exited).toBe(78);
    const lines = api.output().trim().split('\n');
    expect(lines[0]).toBe('Invalid configuration:');
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^ {2}- REDIS_URL: must be a URL starting with redis:\/\/ or rediss:\/\/ \(example: /),
      expect.stringMatching(/^ {2}- API_PORT: must be between 1 and 65535 \(example: API_PORT=3000\)/),
    ]);
    const prod = startAppProcess(ENTRY_POINTS.listener, { NODE_ENV: 'production', ENCRYPTION_KEY: 'short' });
    expect(await prod.exited).toBe(78);
    expect(prod.output()).toMatch(/ENCRYPTION_KEY: must be base64 of exactly 32 bytes/);
    expect(prod.output()).toMatch(/API_KEYS: is required when NODE_ENV=production/);
  });
});
