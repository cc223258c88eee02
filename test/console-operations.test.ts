import { Queue } from 'bullmq';
import { Page } from 'playwright-core';
import { CONSOLE_CSP, QUEUES_CSP } from '@app/console';
import { MailEventsPublisher } from '@app/events';
import { deliveryQueueName, WebhookDeliveryWorkers } from '@app/webhooks';
import { ConsoleBrowser, ListenerWorld, sampleMailReceived, TEST_API_KEY, WebhookReceiver } from '@app/testing';

// page.evaluate callbacks run in the browser: they reach its globals through `globalThis as any` (this project compiles without the DOM library).

/**
 * The console's operations pages in a real Chromium against the real API and listener (which delivers
 * webhooks), Dovecot, Postgres and Redis: the cluster as GET /v1/cluster sees it, webhook endpoints with
 * their delivery log, Retry and Send test event reaching a real receiver, and Bull Board behind the
 * console's session, read-only.
 */
describe('admin console: cluster, webhooks, queues (real Chromium, API, listener, Dovecot, Postgres, Redis)', () => {
  // Retries wait 10 min: a second attempt within the test can only come from the Retry button.
  const world = new ListenerWorld();
  let base: string;
  const browser = new ConsoleBrowser(() => base);
  let failing: WebhookReceiver;
  let healthy: WebhookReceiver;
  /** The endpoint whose receiver answers 500 until the test says otherwise. */
  let failingHook: { id: string; secret: string };
  /** The endpoint whose receiver answers 200. */
  let healthyHook: { id: string; secret: string };
  let failingAnswer = 500;
  /** The event the failing endpoint got, failed and (after Retry) delivered. */
  const retriedEvent = sampleMailReceived({ subject: 'Retry me' });

  async function register(url: string, events: string[], description: string): Promise<{ id: string; secret: string }> {
    const res = await world.api.http.post('/v1/webhooks').set(world.api.auth).send({ url, events, description }).expect(201);
    return { id: res.body.id, secret: res.body.secret };
  }

  beforeAll(async () => {
    await world.start({ env: { WEBHOOK_RETRY_BASE_MS: '600000', WEBHOOK_RETRY_MAX_MS: '600000' } });
    base = world.api.url;
    const ana = await world.mailbox('ana@contoso.com');
    const bo = await world.mailbox('bo@contoso.com');
    for (const mailbox of [ana, bo]) await world.waitForState(mailbox.id, 'connected', 30_000);
    failing = await WebhookReceiver.start('/hooks/failing');
    failing.answerWith(() => ({ status: failingAnswer }));
    healthy = await WebhookReceiver.start('/hooks/healthy');
    // Registered once the mailboxes are connected: no state change is left to deliver to them.
    failingHook = await register(failing.url, ['mail.received'], 'CRM (failing)');
    healthyHook = await register(healthy.url, ['mailbox.auth_failed'], 'CRM (healthy)');
    // The listener re-reads endpoints every second; waiting for its in-process reconcile instead of racing it.
    await world.listener!.app.get(WebhookDeliveryWorkers, { strict: false }).reconcile();
    await browser.launch();
  }, 120_000);

  afterAll(async () => {
    await browser.close();
    await failing?.close();
    await healthy?.close();
    await world.stop();
  });

  afterEach(() => {
    expect(browser.takeProblems()).toEqual([]);
  });

  const shot = (page: Page, name: string) => browser.shot(page, `ops-${name}`);
  const countOf = async (page: Page, key: string) => Number((await page.locator(`[data-count="${key}"]`).first().innerText()).replace(/[^0-9]/g, ''));

  it('shows the cluster as GET /v1/cluster does: each replica, its state, heartbeat age and mailboxes, and the unowned count', async () => {
    const { context, page } = await browser.signedIn();
    await Promise.all([page.waitForURL(`${base}/console/cluster`), page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Cluster' }).click()]);
    const cluster = (await world.api.http.get('/v1/cluster').set(world.api.auth).expect(200)).body;
    expect(cluster.replicas).toHaveLength(1);
    expect(cluster.mailboxes).toEqual({ total: 2, owned: 2, unowned: 0 });
    expect(await countOf(page, 'cluster.replicas')).toBe(cluster.replicas.length);
    expect(await countOf(page, 'cluster.total')).toBe(cluster.mailboxes.total);
    expect(await countOf(page, 'cluster.owned')).toBe(cluster.mailboxes.owned);
    expect(await countOf(page, 'cluster.unowned')).toBe(cluster.mailboxes.unowned);
    const row = page.locator(`tr[data-replica="${world.config.listener.id}"]`);
    await expect(row.locator('[data-count="replica.mailboxes"]').innerText()).resolves.toBe(String(cluster.replicas[0].mailboxes));
    await expect(row.innerText()).resolves.toContain('Live');
    // Heartbeats come every 2 s; a replica shown is one heard from within the lease time (10 s).
    const age = Number((await row.locator('[data-heartbeat-age]').innerText()).replace(/ s ago$/, ''));
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(10);
    await expect(page.locator('nav[aria-label="Sections"] a[aria-current="page"]').innerText()).resolves.toBe('Cluster');
    await shot(page, '01-cluster');
    await context.close();
  });

  it('lists the endpoints with their state and last delivery, shows a failing delivery, and Retry delivers it again', async () => {
    const event = retriedEvent;
    await world.api.app.get(MailEventsPublisher, { strict: false }).publishMany([event]);
    await failing.until((received) => received.some((r) => r.id === event.id), 30_000, 'the first attempt');
    const queue = new Queue(deliveryQueueName(failingHook.id), { connection: { url: world.config.redisUrl }, prefix: world.config.queuePrefix });
    try {
      // The attempt is logged, the endpoint is failing, and the delivery waits 10 min for its next attempt.
      await world.waitFor(
        async () => ({
          log: (await world.api.http.get(`/v1/webhooks/${failingHook.id}/deliveries`).set(world.api.auth).expect(200)).body.items,
          endpoint: (await world.api.http.get(`/v1/webhooks/${failingHook.id}`).set(world.api.auth).expect(200)).body,
          state: await (await queue.getJob(event.id))?.getState(),
        }),
        ({ log, endpoint, state }) => log.length === 1 && endpoint.failingSince !== null && state === 'delayed',
        30_000,
        'the failed attempt logged and its retry scheduled',
      );

      const { context, page } = await browser.signedIn();
      await Promise.all([page.waitForURL(`${base}/console/webhooks`), page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Webhooks' }).click()]);
      expect(await countOf(page, 'webhooks.total')).toBe(2);
      expect(await countOf(page, 'webhooks.failing')).toBe(1);
      const failingRow = page.locator(`tr[data-webhook="${failingHook.id}"]`);
      await expect(failingRow.locator('[data-endpoint-state]').getAttribute('data-endpoint-state')).resolves.toBe('failing');
      await expect(failingRow.innerText()).resolves.toMatch(/Failed[\s\S]*HTTP 500[\s\S]*mail\.received/);
      await expect(page.locator(`tr[data-webhook="${healthyHook.id}"] [data-endpoint-state]`).getAttribute('data-endpoint-state')).resolves.toBe('active');
      await expect(page.locator(`tr[data-webhook="${healthyHook.id}"]`).innerText()).resolves.toContain('none yet');
      await shot(page, '02-webhooks');

      // The overview counts it among the failing endpoints and links to its page.
      await page.goto('/console');
      expect(await countOf(page, 'webhooks.failing')).toBe(1);
      await expect(page.locator(`a[href="/console/webhooks/${failingHook.id}"]`).count()).resolves.toBe(1);
      await page.goto('/console/webhooks');

      await Promise.all([page.waitForURL(`${base}/console/webhooks/${failingHook.id}`), failingRow.getByRole('link', { name: failing.url }).click()]);
      const entry = page.locator(`tbody[data-event="${event.id}"]`);
      await expect(entry.innerText()).resolves.toMatch(/mail\.received[\s\S]*Failed[\s\S]*HTTP 500/);
      await shot(page, '03-webhook-failing');

      failingAnswer = 200;
      const retried = failing.until((received) => received.filter((r) => r.id === event.id).length === 2, 30_000, 'the retried attempt');
      await Promise.all([page.waitForURL(/done=retry/), entry.getByRole('button', { name: 'Retry' }).click()]);
      await expect(page.getByRole('status').innerText()).resolves.toContain(event.id);
      await retried;
      const [, second] = failing.of(event.id);
      expect(WebhookReceiver.verify(second, failingHook.secret)).toMatchObject({ id: event.id, type: 'mail.received' });

      // The log shows the delivered attempt (written just after the answer), and the endpoint is active again.
      await world.waitFor(
        async () => (await world.api.http.get(`/v1/webhooks/${failingHook.id}/deliveries`).set(world.api.auth).expect(200)).body.items,
        (log: Array<{ status: number }>) => log.length === 2 && log[0].status === 200,
        30_000,
        'the retried attempt logged',
      );
      await page.goto(`/console/webhooks/${failingHook.id}`);
      await expect(entry.locator('tr').count()).resolves.toBe(2);
      await expect(entry.locator('tr').first().innerText()).resolves.toContain('Delivered');
      await expect(entry.getByRole('button', { name: 'Retry' }).count()).resolves.toBe(0);
      await expect(page.locator('[data-endpoint-state]').first().getAttribute('data-endpoint-state')).resolves.toBe('active');
      await shot(page, '04-webhook-retried');
      await context.close();
    } finally {
      await queue.close();
    }
  });

  it('sends a test event through the endpoint page (CSRF-protected) and never shows the signing secret', async () => {
    const { context, page } = await browser.signedIn();
    await page.goto(`/console/webhooks/${healthyHook.id}`);
    await expect(page.locator('main').innerText()).resolves.toContain('No deliveries yet');

    // The form's post without its CSRF token is refused and sends nothing.
    const refused = await context.request.post(`/console/webhooks/${healthyHook.id}/test`, { form: { _csrf: 'forged' }, maxRedirects: 0 });
    expect(refused.status()).toBe(403);

    await Promise.all([page.waitForURL(/done=test/), page.getByRole('button', { name: 'Send test event' }).click()]);
    const eventId = new URL(page.url()).searchParams.get('event')!;
    expect(eventId).toMatch(/^webhook\.test\./);
    await healthy.until((received) => received.some((r) => r.id === eventId), 30_000, 'the test event');
    expect(healthy.received.map((r) => r.id)).toEqual([eventId]);
    expect(WebhookReceiver.verify(healthy.received[0], healthyHook.secret)).toMatchObject({ id: eventId, type: 'webhook.test', webhook: { id: healthyHook.id } });

    await world.waitFor(
      async () => (await world.api.http.get(`/v1/webhooks/${healthyHook.id}/deliveries`).set(world.api.auth).expect(200)).body.items,
      (log: unknown[]) => log.length === 1,
      30_000,
      'the test delivery logged',
    );
    await page.goto(`/console/webhooks/${healthyHook.id}`);
    await expect(page.locator(`tbody[data-event="${eventId}"]`).innerText()).resolves.toMatch(/webhook\.test[\s\S]*Delivered/);
    await expect(page.locator('main').innerText()).resolves.toMatch(/Signing secret\s+set/);
    for (const path of [`/console/webhooks/${healthyHook.id}`, `/console/webhooks/${failingHook.id}`, '/console/webhooks', '/console']) {
      await page.goto(path);
      const content = await page.content();
      expect(content).not.toContain(healthyHook.secret);
      expect(content).not.toContain(failingHook.secret);
      expect(content).not.toContain(healthyHook.secret.replace(/^whsec_/, ''));
    }
    await shot(page, '05-overview-after-webhooks');
    await context.close();
  });

  it('serves Bull Board only to a signed-in console session: the sign-in page otherwise, and back to the board after', async () => {
    const { context, page } = await browser.newPage();
    await page.goto('/console/queues');
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    expect(new URL(page.url()).searchParams.get('returnTo')).toBe('/console/queues');
    // Its JSON API and its files are closed too.
    expect((await context.request.get('/console/queues/api/queues', { maxRedirects: 0 })).status()).toBe(401);
    await browser.waitForKeyFieldFocus(page);
    await page.keyboard.type(TEST_API_KEY);
    await Promise.all([page.waitForURL(`${base}/console/queues`), page.keyboard.press('Enter')]);
    await page.getByText('webhook-fanout').first().waitFor({ timeout: 30_000 });
    await context.close();
  });

  it('shows every queue of the project in Bull Board, read-only, under its own CSP with nothing from elsewhere', async () => {
    const { context, page } = await browser.signedIn();
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    const response = await page.goto('/console/queues');
    expect(response!.headers()['content-security-policy']).toBe(QUEUES_CSP);
    const names = ['mail-events', 'webhook-fanout', 'mail-send', 'graph-notifications', deliveryQueueName(failingHook.id), deliveryQueueName(healthyHook.id)];
    for (const name of names) await page.getByText(name, { exact: true }).first().waitFor({ timeout: 30_000 });
    await page.getByText('Loading...').waitFor({ state: 'detached', timeout: 30_000 });
    await shot(page, '06-queues');

    const board = (await (await context.request.get('/console/queues/api/queues')).json()) as { queues: Array<{ name: string; readOnlyMode: boolean }> };
    expect(board.queues.map((q) => q.name).sort()).toEqual([...names].sort());
    expect(board.queues.every((q) => q.readOnlyMode)).toBe(true);
    // Read-only: a change is refused before it reaches the board (and the board would refuse it too).
    const paused = await context.request.put('/console/queues/api/queues/mail-events/pause');
    expect(paused.status()).toBe(405);
    expect(await world.events.queue.isPaused()).toBe(false);
    // The job page of a delivery: no retry, clean or promote buttons.
    await page.goto(`/console/queues/queue/${encodeURIComponent(deliveryQueueName(failingHook.id))}?status=completed`);
    // The delivered job shows (retried by the test above): the page has loaded its jobs, and offers no change.
    await page.getByText(retriedEvent.id).first().waitFor({ timeout: 30_000 });
    await expect(page.getByRole('button', { name: /retry|clean|promote|pause|empty|delete|duplicate|add/i }).count()).resolves.toBe(0);
    await shot(page, '07-queue-deliveries');
    expect(requests.filter((url) => !url.startsWith(base))).toEqual([]);
    await context.close();
  });

  it('shows an endpoint disabled by a 410 with the reason, and offers no test event or retry for it', async () => {
    const gone = await WebhookReceiver.start('/hooks/gone');
    try {
      gone.answerWith(() => ({ status: 410 }));
      const goneHook = await register(gone.url, ['mail.received'], 'CRM (gone)');
      await world.listener!.app.get(WebhookDeliveryWorkers, { strict: false }).reconcile();
      await world.api.http.post(`/v1/webhooks/${goneHook.id}/test`).set(world.api.auth).expect(202);
      const endpoint = await world.waitFor(
        async () => (await world.api.http.get(`/v1/webhooks/${goneHook.id}`).set(world.api.auth).expect(200)).body,
        (body: { enabled: boolean; disabledReason: string | null }) => !body.enabled,
        30_000,
        'the endpoint disabled by its 410',
      );
      expect(endpoint.disabledReason).toBeTruthy();

      const { context, page } = await browser.signedIn();
      await page.goto('/console/webhooks');
      expect(await countOf(page, 'webhooks.disabled')).toBe(1);
      const row = page.locator(`tr[data-webhook="${goneHook.id}"]`);
      await expect(row.locator('[data-endpoint-state]').getAttribute('data-endpoint-state')).resolves.toBe('disabled');
      await expect(row.innerText()).resolves.toContain(endpoint.disabledReason);
      await page.goto(`/console/webhooks/${goneHook.id}`);
      await expect(page.locator('main').innerText()).resolves.toContain(endpoint.disabledReason);
      await expect(page.getByRole('button', { name: 'Send test event' }).count()).resolves.toBe(0);
      await expect(page.getByRole('button', { name: 'Retry' }).count()).resolves.toBe(0);
      await expect(page.locator('main').innerText()).resolves.toContain('Deliveries are stopped');
      await shot(page, '08-webhook-disabled');
      await context.close();
    } finally {
      await gone.close();
    }
  });

  it('reads well at phone width (no horizontal scrolling) on the cluster and webhook pages, under the console\'s strict CSP', async () => {
    const { context, page } = await browser.signedIn({ width: 390, height: 844 });
    for (const [path, name] of [
      ['/console/cluster', '09-phone-cluster'],
      ['/console/webhooks', '10-phone-webhooks'],
      [`/console/webhooks/${failingHook.id}`, '11-phone-webhook'],
    ] as const) {
      const response = await page.goto(path);
      expect(response!.headers()['content-security-policy']).toBe(CONSOLE_CSP);
      // Nor inside a card: long URLs and event ids wrap instead of scrolling (or being cut off).
      expect({ path, sideways: await browser.sidewaysScroll(page) }).toEqual({ path, sideways: { page: 0, tables: 0 } });
      await shot(page, name);
    }
    await context.close();
  });
});
