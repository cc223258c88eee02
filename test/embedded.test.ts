import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENTRY_POINTS, freePort, startAppProcess, waitForHttpOk } from '@app/testing';
import { readFileSync } from 'node:fs';

/**
 * `npm start` on a fresh machine: no DATABASE_URL, so the supervisor runs the embedded database (PGlite)
 * and both apps on it. Data must survive a restart.
 */
describe('embedded mode (npm start without DATABASE_URL)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ml-embedded-'));

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  async function start() {
    const env = {
      DATA_DIR: dataDir,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      API_HOST: '127.0.0.1',
      API_PORT: String(await freePort()),
      LISTENER_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
    };
    const supervisor = startAppProcess(ENTRY_POINTS.supervisor, env);
    await waitForHttpOk(`http://127.0.0.1:${env.API_PORT}/health/ready`, supervisor, 90_000);
    await waitForHttpOk(`http://127.0.0.1:${env.LISTENER_PORT}/health/ready`, supervisor, 90_000);
    return { supervisor, api: `http://127.0.0.1:${env.API_PORT}` };
  }

  it('serves the API on the embedded database, keeps data across a restart and stops cleanly', async () => {
    let { supervisor, api } = await start();
    try {
      const key = readFileSync(join(dataDir, 'dev-api-key'), 'utf8').trim();
      const headers = { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' };
      const provider = await fetch(`${api}/v1/providers`, { method: 'POST', headers, body: JSON.stringify({ name: 'E', type: 'imap', host: '127.0.0.1', port: await freePort(), secure: false, domains: ['embedded.test'] }) });
      expect(provider.status).toBe(201);
      const mailbox = await fetch(`${api}/v1/mailboxes`, { method: 'POST', headers, body: JSON.stringify({ email: 'ana@embedded.test', password: 'pw' }) });
      expect(mailbox.status).toBe(201);
      expect(supervisor.output()).not.toContain(key);
      // A newcomer's first run logs no error (the apps' first queries used to collide in PGlite's one
      // session: "Refresh pass failed: unnamed prepared statement does not exist").
      expect(supervisor.output()).not.toMatch(/"level":50/);
      expect(await supervisor.stop()).toBe(0);

      ({ supervisor, api } = await start());
      const list = await fetch(`${api}/v1/mailboxes`, { headers });
      const body = (await list.json()) as { total: number; items: { email: string; hasPassword: boolean }[] };
      expect(body.total).toBe(1);
      expect(body.items[0]).toMatchObject({ email: 'ana@embedded.test', hasPassword: true });
      const status = await fetch(`${api}/v1/mailboxes/${(body.items[0] as unknown as { id: string }).id}/status`, { headers });
      expect(status.status).toBe(200);
      expect(await supervisor.stop()).toBe(0);
    } finally {
      await supervisor.stop('SIGKILL');
    }
  }, 240_000);
});
