import { Page } from 'playwright-core';
import { CONSOLE_CSP } from '@app/console';
import { CONNECTION_STATES } from '@app/persistence';
import { ConsoleBrowser, ListenerWorld, TEST_API_KEY } from '@app/testing';

// page.evaluate callbacks run in the browser: they reach its globals through `globalThis as any` (this project compiles without the DOM library).

/**
 * The admin console in a real Chromium (playwright-core driving Debian's chromium) against the real API
 * and listener, Dovecot, Postgres and Redis: sign-in, sessions, CSRF, CSP, and that the pages show what
 * the API says.
 */
describe('admin console (real Chromium, API, listener, Dovecot, Postgres, Redis)', () => {
  const world = new ListenerWorld();
  let base: string;
  const browser = new ConsoleBrowser(() => base);
  const mailboxes: Record<'ana' | 'bo' | 'cy' | 'wrong' | 'off', { id: string; email: string }> = {} as never;

  beforeAll(async () => {
    await world.start();
    base = world.api.url;
    mailboxes.ana = await world.mailbox('ana@contoso.com', { externalId: 'crm-101' });
    mailboxes.bo = await world.mailbox('bo@contoso.com', { externalId: 'crm-102' });
    mailboxes.cy = await world.mailbox('cy@contoso.com', { externalId: 'crm-103' });
    await world.dovecot.addUser('wrong@contoso.com', 'the-right-one');
    const wrong = await world.api.http.post('/v1/mailboxes').set(world.api.auth).send({ email: 'wrong@contoso.com', password: 'not-it', externalId: 'crm-104' }).expect(201);
    mailboxes.wrong = { id: wrong.body.id, email: 'wrong@contoso.com' };
    mailboxes.off = await world.mailbox('off@contoso.com', { externalId: 'crm-105', enabled: false });
    for (const name of ['ana', 'bo', 'cy'] as const) await world.waitForState(mailboxes[name].id, 'connected', 30_000);
    await world.waitForState(mailboxes.wrong.id, 'auth_error', 30_000);
    await browser.launch();
  }, 120_000);

  afterAll(async () => {
    await browser.close();
    await world.stop();
  });

  afterEach(() => {
    expect(browser.takeProblems()).toEqual([]);
  });

  const newPage = (viewport?: { width: number; height: number }) => browser.newPage(viewport);
  const signedIn = (viewport?: { width: number; height: number }) => browser.signedIn(viewport);
  const shot = (page: Page, name: string) => browser.shot(page, name);
  const countOf = async (page: Page, key: string) => Number((await page.locator(`[data-count="${key}"]`).first().innerText()).replace(/[^0-9]/g, ''));

  it('sends a page without a session to sign-in, and back there once signed in', async () => {
    const { context, page } = await newPage();
    const response = await page.goto('/console/mailboxes?state=connected');
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    expect(new URL(page.url()).searchParams.get('returnTo')).toBe('/console/mailboxes?state=connected');
    expect(response!.status()).toBe(200);
    await browser.waitForKeyFieldFocus(page);
    await shot(page, '01-sign-in');
    await page.getByLabel('API key').fill(TEST_API_KEY);
    await Promise.all([page.waitForURL(`${base}/console/mailboxes?state=connected`), page.getByRole('button', { name: 'Sign in' }).click()]);
    await expect(page.getByRole('heading', { level: 1 }).innerText()).resolves.toBe('Mailboxes');
    await context.close();
  });

  it('refuses a wrong key with a clear message, and never shows the key it was given', async () => {
    const { context, page } = await newPage();
    await page.goto('/console/sign-in');
    await page.getByLabel('API key').fill('not-the-key-xyz');
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Sign in' }).click()]);
    expect(response.status()).toBe(401);
    await expect(page.getByRole('alert').innerText()).resolves.toContain('That API key is not valid');
    expect(await page.content()).not.toContain('not-the-key-xyz');
    expect(await page.getByLabel('API key').getAttribute('aria-invalid')).toBe('true');
    expect((await context.cookies()).map((cookie) => cookie.name)).not.toContain('ml_console_session');
    await shot(page, '02-sign-in-wrong-key');
    // The browser console shows the 401 of the form post as a failed resource: expected here.
    browser.forgive(/401/);
    await context.close();
  });

  it('sets the session cookie HttpOnly, SameSite=Strict, Secure, for /console only, with an expiry', async () => {
    const before = Date.now();
    const { context } = await signedIn();
    const after = Date.now();
    const cookie = (await context.cookies()).find((c) => c.name === 'ml_console_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: true, path: '/console' });
    // Eight hours from the sign-in. HTTP dates (the cookie's Expires, and the Date header Chromium measures it
    // against) have whole seconds, so the browser's expiry can be up to a second either side (+0.8 s seen).
    const eightHours = 8 * 3600_000;
    expect(cookie.expires * 1000).toBeGreaterThanOrEqual(before + eightHours - 1000);
    expect(cookie.expires * 1000).toBeLessThanOrEqual(after + eightHours + 1000);
    expect(cookie.value).not.toContain(TEST_API_KEY);
    await context.close();
  });

  it('serves every page with the strict Content-Security-Policy and no browser errors', async () => {
    const { context, page } = await signedIn();
    for (const path of ['/console', '/console/mailboxes', `/console/mailboxes/${mailboxes.ana.id}`, '/console/sign-in?returnTo=/console']) {
      const response = await page.goto(path);
      expect(response!.headers()['content-security-policy']).toBe(CONSOLE_CSP);
      expect(response!.headers()['x-frame-options']).toBe('DENY');
      expect(response!.headers()['cache-control']).toBe('no-store');
    }
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
    // The stylesheet applied (no inline style was needed): the top bar is dark.
    await page.goto('/console');
    expect(await page.locator('.topbar').evaluate((el) => (globalThis as any).getComputedStyle(el).backgroundColor)).toBe('rgb(23, 32, 58)');
    await context.close();
  });

  it('shows on the overview the numbers the API gives, each linking to its filtered list', async () => {
    const { context, page } = await signedIn();
    await page.goto('/console');
    for (const state of CONNECTION_STATES) {
      const api = (await world.api.http.get('/v1/mailboxes').query({ state, limit: 1 }).set(world.api.auth).expect(200)).body.total;
      expect({ state, shown: await countOf(page, `mailboxes.${state}`) }).toEqual({ state, shown: api });
    }
    expect(await countOf(page, 'mailboxes.connected')).toBe(3);
    expect(await countOf(page, 'mailboxes.auth_error')).toBe(1);
    expect(await countOf(page, 'mailboxes.disabled')).toBe(1);
    // Each mailbox's own status agrees.
    for (const [name, state] of [['ana', 'connected'], ['wrong', 'auth_error'], ['off', 'disabled']] as const) {
      expect((await world.status(mailboxes[name].id)).connection.state).toBe(state);
    }
    const cluster = (await world.api.http.get('/v1/cluster').set(world.api.auth).expect(200)).body;
    expect(await countOf(page, 'cluster.replicas')).toBe(cluster.replicas.length);
    expect(await countOf(page, 'cluster.owned')).toBe(cluster.mailboxes.owned);
    expect(await countOf(page, 'cluster.unowned')).toBe(cluster.mailboxes.unowned);
    expect(await page.locator('main').innerText()).toContain(world.config.listener.id);
    // Nothing cut off at 1280 px: no table scrolls sideways inside its card.
    expect((await browser.sidewaysScroll(page)).tables).toBe(0);
    await shot(page, '03-overview');

    await Promise.all([page.waitForURL(/state=auth_error/), page.locator('[data-count="mailboxes.auth_error"]').click()]);
    await expect(page.locator('table.mailboxes tbody tr').count()).resolves.toBe(1);
    await expect(page.locator('table.mailboxes tbody').innerText()).resolves.toContain('wrong@contoso.com');
    await context.close();
  });

  it('searches the mailbox list by address or external id and filters it by state and mail service', async () => {
    const { context, page } = await signedIn();
    await page.goto('/console/mailboxes');
    await expect(page.locator('table.mailboxes tbody tr').count()).resolves.toBe(5);
    await shot(page, '04-mailboxes');

    await page.getByLabel('Search').fill('CRM-102');
    await Promise.all([page.waitForURL(/search=CRM-102/), page.getByRole('button', { name: 'Apply' }).click()]);
    await expect(page.locator('table.mailboxes tbody').innerText()).resolves.toContain('bo@contoso.com');
    await expect(page.locator('table.mailboxes tbody tr').count()).resolves.toBe(1);

    await page.getByLabel('Search').fill('contoso');
    await page.getByLabel('State').selectOption('disabled');
    await Promise.all([page.waitForURL(/state=disabled/), page.getByRole('button', { name: 'Apply' }).click()]);
    await expect(page.locator('table.mailboxes tbody tr').count()).resolves.toBe(1);
    await expect(page.locator('table.mailboxes tbody').innerText()).resolves.toContain('off@contoso.com');

    await page.goto(`/console/mailboxes?provider=${world.providerId}&state=connected`);
    await expect(page.locator('table.mailboxes tbody tr').count()).resolves.toBe(3);
    await expect(page.getByLabel('Mail service').inputValue()).resolves.toBe(world.providerId);

    // % and _ are text, not wildcards; nothing matches: the empty state says what to do.
    await page.goto('/console/mailboxes?search=%25_nobody');
    await expect(page.getByRole('heading', { name: 'No mailbox matches' }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('link', { name: 'clear the filters' }).isVisible()).resolves.toBe(true);
    await context.close();
  });

  it("shows a mailbox's state, error and recommended action, and disables, enables and resyncs it through CSRF-protected forms", async () => {
    const { context, page } = await signedIn();
    await page.goto(`/console/mailboxes/${mailboxes.wrong.id}`);
    const status = await world.status(mailboxes.wrong.id);
    await expect(page.locator('[data-state]').getAttribute('data-state')).resolves.toBe('auth_error');
    await expect(page.locator('main').innerText()).resolves.toContain(status.recommendedAction);
    await expect(page.locator('main').innerText()).resolves.toContain(status.connection.lastError.code);
    await expect(page.locator('main').innerText()).resolves.toContain('Password: set');
    expect(await page.content()).not.toContain('not-it');
    await shot(page, '05-mailbox-auth-error');

    page.once('dialog', (dialog) => void dialog.accept());
    await Promise.all([page.waitForURL(/done=disabled/), page.getByRole('button', { name: 'Disable' }).click()]);
    await expect(page.getByRole('status').first().innerText()).resolves.toContain('Disabled');
    expect((await world.status(mailboxes.wrong.id)).connection.state).toBe('disabled');
    await Promise.all([page.waitForURL(/done=enabled/), page.getByRole('button', { name: 'Enable' }).click()]);
    expect((await world.api.http.get(`/v1/mailboxes/${mailboxes.wrong.id}`).set(world.api.auth).expect(200)).body.enabled).toBe(true);
    expect((await world.status(mailboxes.wrong.id)).connection.state).not.toBe('disabled');

    await page.goto(`/console/mailboxes/${mailboxes.ana.id}`);
    await expect(page.locator('[data-state]').getAttribute('data-state')).resolves.toBe('connected');
    await expect(page.locator('main').innerText()).resolves.toContain(world.config.listener.id);
    await Promise.all([page.waitForURL(/done=resync/), page.getByRole('button', { name: 'Resync now' }).click()]);
    await expect(page.getByRole('status').first().innerText()).resolves.toContain('Resync requested');
    await shot(page, '06-mailbox-connected');
    await context.close();
  });

  it('refuses a state-changing request without the CSRF token (403), with a wrong one, and from another session', async () => {
    const { context, page } = await signedIn();
    const resync = `/console/mailboxes/${mailboxes.bo.id}/resync`;
    expect((await context.request.post(resync, { form: {}, maxRedirects: 0 })).status()).toBe(403);
    expect((await context.request.post(resync, { form: { _csrf: 'forged' }, maxRedirects: 0 })).status()).toBe(403);
    const other = await signedIn();
    await other.page.goto(`/console/mailboxes/${mailboxes.bo.id}`);
    const othersToken = await other.page.locator('input[name="_csrf"]').first().inputValue();
    expect((await context.request.post(resync, { form: { _csrf: othersToken }, maxRedirects: 0 })).status()).toBe(403);
    expect((await context.request.post('/console/sign-out', { form: {}, maxRedirects: 0 })).status()).toBe(403);
    // The sign-in form has its own token too (login CSRF).
    expect((await (await newPage()).context.request.post('/console/sign-in', { form: { apiKey: TEST_API_KEY }, maxRedirects: 0 })).status()).toBe(403);
    // With its own token it goes through.
    await page.goto(`/console/mailboxes/${mailboxes.bo.id}`);
    const token = await page.locator('input[name="_csrf"]').first().inputValue();
    expect((await context.request.post(resync, { form: { _csrf: token }, maxRedirects: 0 })).status()).toBe(303);
    await other.context.close();
    await context.close();
  });

  it('signs out: the session cookie is gone and pages redirect to sign-in again', async () => {
    const { context, page } = await signedIn();
    await Promise.all([page.waitForURL(/\/console\/sign-in/), page.getByRole('button', { name: 'Sign out' }).click()]);
    expect((await context.cookies()).map((cookie) => cookie.name)).not.toContain('ml_console_session');
    await page.goto('/console');
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    await context.close();
  });

  it('reads well at phone width: no horizontal scrolling, the page nor a table in its card; the six sections all in reach', async () => {
    const signInPage = await newPage({ width: 390, height: 844 });
    await signInPage.page.goto('/console/sign-in');
    expect(await browser.sidewaysScroll(signInPage.page)).toEqual({ page: 0, tables: 0 });
    await signInPage.context.close();

    const { context, page } = await signedIn({ width: 390, height: 844 });
    for (const [path, name] of [
      ['/console', '07-phone-overview'],
      ['/console/mailboxes', '08-phone-mailboxes'],
      [`/console/mailboxes/${mailboxes.wrong.id}`, '09-phone-mailbox'],
    ] as const) {
      await page.goto(path);
      expect({ path, sideways: await browser.sidewaysScroll(page) }).toEqual({ path, sideways: { page: 0, tables: 0 } });
      // Every section's entry is on the screen, whole (the navigation wraps rather than running off the edge).
      const entries = await page.getByRole('navigation', { name: 'Sections' }).getByRole('link').evaluateAll((links) =>
        links.map((link) => {
          const box = link.getBoundingClientRect();
          return { text: link.textContent, inside: box.left >= 0 && box.right <= (globalThis as any).innerWidth && box.width > 0 };
        }),
      );
      expect({ path, entries }).toEqual({ path, entries: ['Overview', 'Mailboxes', 'Mail services', 'Cluster', 'Webhooks', 'Queues'].map((text) => ({ text, inside: true })) });
      await shot(page, name);
    }
    // An error page (here a mailbox that does not exist) too: still the sections around it, its own marked, and the way back.
    await page.goto('/console/mailboxes/00000000-0000-4000-8000-000000000000');
    await expect(page.getByRole('heading', { level: 1 }).innerText()).resolves.toBe('Not found');
    await expect(page.getByRole('link', { name: 'Back to the console' }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Mailboxes' }).getAttribute('aria-current')).resolves.toBe('page');
    expect(await browser.sidewaysScroll(page)).toEqual({ page: 0, tables: 0 });
    await shot(page, '10-phone-not-found');
    // The unknown mailbox's page answers 404, which the browser logs as a failed resource: expected here.
    browser.forgive(/status of 404 .* at http:\/\/127\.0\.0\.1:\d+\/console\/mailboxes\/00000000-/);
    await context.close();
  });

  it('rate-limits failed sign-ins per address: the 6th within 15 minutes is refused (429), even with the right key', async () => {
    const { context, page } = await newPage();
    // One failure was made by the wrong-key test above; four more reach the limit of five.
    for (let i = 0; i < 4; i++) {
      await page.goto('/console/sign-in');
      await page.getByLabel('API key').fill(`wrong-${i}`);
      await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Sign in' }).click()]);
    }
    await page.goto('/console/sign-in');
    await page.getByLabel('API key').fill(TEST_API_KEY);
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Sign in' }).click()]);
    expect(response.status()).toBe(429);
    expect(Number(response.headers()['retry-after'])).toBeGreaterThan(800);
    await expect(page.getByRole('alert').innerText()).resolves.toMatch(/Too many failed sign-ins from your address\. Try again in 1[45] minutes\./);
    browser.forgive(/401|429/);
    await context.close();
  });
});
