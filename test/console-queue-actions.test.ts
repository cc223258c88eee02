import { Queue } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@app/config';
import { MAIL_SEND_QUEUE } from '@app/sending';
import { ConsoleBrowser, useApiSuite } from '@app/testing';

/**
 * Bull Board with CONSOLE_QUEUE_ACTIONS=on (test/console-operations.test.ts covers the default, read-only):
 * its actions work for a signed-in console page, and only from the console's own origin — the board's
 * requests carry no CSRF token, so the browser's Origin header is what tells them from a forged one.
 */
describe('admin console: Bull Board with queue actions on (real Chromium, API, Postgres, Redis)', () => {
  const suite = useApiSuite({ CONSOLE_QUEUE_ACTIONS: 'on' });
  const browser = new ConsoleBrowser(() => suite.api.url);
  let sends: Queue;

  beforeAll(async () => {
    await browser.launch();
    const config = suite.api.app.get<AppConfig>(APP_CONFIG);
    sends = new Queue(MAIL_SEND_QUEUE, { connection: { url: config.redisUrl }, prefix: config.queuePrefix });
  }, 60_000);

  afterAll(async () => {
    await sends?.close();
    await browser.close();
  });

  afterEach(() => {
    expect(browser.takeProblems()).toEqual([]);
  });

  const pause = `/console/queues/api/queues/${MAIL_SEND_QUEUE}/pause`;
  const resume = `/console/queues/api/queues/${MAIL_SEND_QUEUE}/resume`;

  it('pauses and resumes a queue from the signed-in console, and the board offers its action buttons', async () => {
    const { context, page } = await browser.signedIn();
    const board = (await (await context.request.get('/console/queues/api/queues')).json()) as { queues: Array<{ name: string; readOnlyMode: boolean }> };
    expect(board.queues.length).toBeGreaterThan(0);
    expect(board.queues.filter((queue) => queue.readOnlyMode)).toEqual([]);

    const origin = suite.api.url;
    expect((await context.request.put(pause, { headers: { origin } })).status()).toBe(200);
    expect(await sends.isPaused()).toBe(true);
    expect((await context.request.put(resume, { headers: { origin } })).status()).toBe(200);
    expect(await sends.isPaused()).toBe(false);

    // A delayed job (no worker runs here): its page offers Promote, which read-only mode hides.
    const job = await sends.add('send', { sendId: 'not-a-real-send', queuedAt: Date.now() }, { delay: 3_600_000, jobId: 'console-actions-delayed' });
    await page.goto(`/console/queues/queue/${MAIL_SEND_QUEUE}?status=delayed`);
    await page.getByText(job.id!).first().waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: /promote/i }).first().waitFor({ timeout: 30_000 });
    await browser.shot(page, 'ops-queues-actions-on');
    await job.remove();
    await context.close();
  });

  it('refuses an action without the Origin header or from another origin (403), and without a session (401)', async () => {
    const { context } = await browser.signedIn();
    expect((await context.request.put(pause, { headers: { origin: 'https://crm.attacker.example' } })).status()).toBe(403);
    // Playwright's request API sends no Origin of its own.
    expect((await context.request.put(pause)).status()).toBe(403);
    expect(await sends.isPaused()).toBe(false);
    const stranger = await browser.newPage();
    expect((await stranger.context.request.put(pause, { headers: { origin: suite.api.url } })).status()).toBe(401);
    expect(await sends.isPaused()).toBe(false);
    await stranger.context.close();
    await context.close();
  });
});
