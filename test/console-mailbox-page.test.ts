import { Page } from 'playwright-core';
import { ConsoleBrowser, ListenerWorld, queryDatabase, startListener } from '@app/testing';

// page.evaluate callbacks run in the browser: they reach its globals through `globalThis as any` (this project compiles without the DOM library).

/**
 * The console's mailboxes in a real Chromium against the real API, listener, Dovecot, Postgres and Redis:
 * adding one through the form (the API's checks and messages at their fields), its page following the
 * connection by itself, deleting it, and the list paged over 10,000 mailboxes.
 */
describe('console mailboxes: add, live page, delete, 10,000 in pages (real Chromium, API, listener, Dovecot)', () => {
  const world = new ListenerWorld();
  let base: string;
  const browser = new ConsoleBrowser(() => base);

  beforeAll(async () => {
    // No listener yet: the first test starts it while a page is open, to see that page change by itself.
    await world.start({ listener: false });
    base = world.api.url;
    await browser.launch();
  }, 120_000);

  afterAll(async () => {
    await browser.close();
    await world.stop();
  });

  afterEach(() => {
    expect(browser.takeProblems()).toEqual([]);
  });

  const shot = (page: Page, name: string) => browser.shot(page, `mailbox-${name}`);
  const mainText = (page: Page) => page.locator('main').innerText();
  const stateOf = (page: Page) => page.locator('[data-live="connection"] [data-state]').getAttribute('data-state');

  /** Marks the loaded document and counts main-frame navigations: a reload or a redirect would show in either. */
  async function watchForNavigation(page: Page): Promise<() => Promise<{ navigations: number; sameDocument: boolean }>> {
    let navigations = 0;
    const count = (frame: unknown) => {
      if (frame === page.mainFrame()) navigations += 1;
    };
    page.on('framenavigated', count);
    await page.evaluate(() => ((globalThis as any).__loadedOnce = 'yes'));
    return async () => {
      page.off('framenavigated', count);
      return { navigations, sameDocument: (await page.evaluate(() => (globalThis as any).__loadedOnce)) === 'yes' };
    };
  }

  async function fillNewMailbox(page: Page, fields: { email: string; password?: string; folders?: string; externalId?: string; startNow?: boolean }): Promise<void> {
    await page.goto('/console/mailboxes/new');
    await page.getByLabel('Address').fill(fields.email);
    if (fields.password !== undefined) await page.getByLabel('Password').fill(fields.password);
    if (fields.folders !== undefined) await page.getByLabel('Folders').fill(fields.folders);
    if (fields.externalId !== undefined) await page.getByLabel('External id (optional)').fill(fields.externalId);
    if (fields.startNow === false) await page.getByLabel('Start syncing at once').uncheck();
  }

  /** Submits the form: the status of its POST (303 to the new mailbox's page, or the form again with 400/409). */
  async function submit(page: Page): Promise<number> {
    const response = await browser.submit(page, page.getByRole('button', { name: 'Add mailbox' }));
    if (response.status() === 303) expect(page.url()).toMatch(/\/console\/mailboxes\/[0-9a-f-]{36}\?done=created$/);
    return response.status();
  }

  it('adds a password mailbox on Dovecot through the form, and its page turns Connected by itself, with its folders and owner', async () => {
    await world.dovecot.addUser('ana@contoso.com', 'ana-secret');
    await world.dovecot.createFolder('ana@contoso.com', 'Sales');
    const { context, page } = await browser.signedIn();
    await fillNewMailbox(page, { email: 'ana@contoso.com', password: 'ana-secret', folders: 'INBOX\nSales', externalId: 'crm-201' });
    // The mail service is found from the domain as it is typed, the API's own lookup.
    await page.locator('#provider-found', { hasText: 'Mail service: Dovecot (imap, password)' }).waitFor();
    await shot(page, '01-new');
    expect(await submit(page)).toBe(303);
    expect(new URL(page.url()).pathname).toMatch(/^\/console\/mailboxes\/[0-9a-f-]{36}$/);
    const id = new URL(page.url()).pathname.split('/').pop()!;
    await expect(page.getByRole('status').first().innerText()).resolves.toContain('Mailbox added');
    const api = (await world.api.http.get(`/v1/mailboxes/${id}`).set(world.api.auth).expect(200)).body;
    expect(api).toMatchObject({ email: 'ana@contoso.com', externalId: 'crm-201', folders: ['INBOX', 'Sales'], hasPassword: true, providerId: world.providerId, enabled: true });
    expect(await page.content()).not.toContain('ana-secret');

    // No listener runs yet: the page says so, and what to do.
    await expect(stateOf(page)).resolves.toBe('pending');
    await expect(mainText(page)).resolves.toContain((await world.status(id)).recommendedAction);
    await expect(page.locator('[data-live-note]').isVisible()).resolves.toBe(true);
    const navigationSince = await watchForNavigation(page);

    world.listener = await startListener(world.config);
    await page.locator('[data-live="connection"] [data-state="connected"]').waitFor({ timeout: 45_000 });
    await expect(page.locator('[data-live="connection"] .badge').innerText()).resolves.toBe('Connected');
    await expect(page.locator('[data-recommended-action]').count()).resolves.toBe(0);
    // Held by this listener, as GET /v1/cluster names it; each folder followed by IDLE.
    await page.locator('[data-owner]').waitFor();
    await expect(page.locator('[data-owner]').innerText()).resolves.toBe(world.config.listener.id);
    // Each folder's mode comes with the listener's next report, not necessarily in the same poll as Connected.
    for (const folder of ['INBOX', 'Sales']) await page.locator(`tr[data-folder="${folder}"]`, { hasText: 'IMAP IDLE' }).waitFor({ timeout: 30_000 });

    // Mail arrives: the cursor, the last event and the lag appear by themselves too.
    await world.dovecot.deliver('ana@contoso.com', 'From: bo@fabrikam.com\r\nTo: ana@contoso.com\r\nSubject: live\r\nMessage-ID: <live-1@fabrikam.com>\r\n\r\nhello\r\n');
    await page.locator('tr[data-folder="INBOX"]', { hasText: 'UID 1' }).waitFor({ timeout: 30_000 });
    await page.locator('[data-lag]', { hasText: 's from arrival to publishing' }).waitFor({ timeout: 30_000 });
    const status = await world.status(id);
    expect(status.sync.folders.find((f: { name: string }) => f.name === 'INBOX').lastUid).toBe(1);
    expect(await navigationSince()).toEqual({ navigations: 0, sameDocument: true });
    await shot(page, '02-connected');
    // What the page polls is behind the session like the page: without one, the sign-in redirect, no JSON.
    const stranger = await browser.newPage();
    const anonymous = await stranger.context.request.get(`/console/mailboxes/${id}/live`, { maxRedirects: 0 });
    expect(anonymous.status()).toBe(303);
    expect(anonymous.headers().location).toMatch(/^\/console\/sign-in\?returnTo=/);
    await stranger.context.close();
    await context.close();
  });

  it('shows the Auth error of a wrong password and the recommended action, live, once the mailbox is enabled elsewhere', async () => {
    await world.dovecot.addUser('wrong@contoso.com', 'the-right-one');
    const { context, page } = await browser.signedIn();
    await fillNewMailbox(page, { email: 'wrong@contoso.com', password: 'not-it', startNow: false });
    expect(await submit(page)).toBe(303);
    const id = new URL(page.url()).pathname.split('/').pop()!;
    await expect(stateOf(page)).resolves.toBe('disabled');
    const navigationSince = await watchForNavigation(page);

    // Enabled through the API (by the CRM, say): the open page follows.
    await world.api.http.patch(`/v1/mailboxes/${id}`).set(world.api.auth).send({ enabled: true }).expect(200);
    await page.locator('[data-live="connection"] [data-state="auth_error"]').waitFor({ timeout: 45_000 });
    await expect(page.locator('[data-live="connection"] .badge').innerText()).resolves.toBe('Auth error');
    const status = await world.status(id);
    expect(status.connection.state).toBe('auth_error');
    await expect(page.locator('[data-recommended-action]').innerText()).resolves.toBe(`What to do: ${status.recommendedAction}`);
    expect(status.recommendedAction).toMatch(/^Check the password/);
    await expect(page.locator('[data-live="connection"]').innerText()).resolves.toContain(status.connection.lastError.code);
    // The button under it changed with it: Disable now, not Enable.
    await expect(page.getByRole('button', { name: 'Disable' }).isVisible()).resolves.toBe(true);
    await expect(page.locator('[data-live-announce]').textContent()).resolves.toBe('Connection: Auth error');
    expect(await navigationSince()).toEqual({ navigations: 0, sameDocument: true });
    expect(await page.content()).not.toContain('not-it');
    await shot(page, '03-auth-error');
    await context.close();
  });

  it("puts the API's own messages next to the fields it refuses, and keeps what was typed but the password", async () => {
    const { context, page } = await browser.signedIn();
    const apiMessage = async (body: Record<string, unknown>) => (await world.api.http.post('/v1/mailboxes').set(world.api.auth).send(body)).body.message as string;

    // Not an address, no folder: two fields at once.
    await fillNewMailbox(page, { email: 'not-an-address', password: 'x', folders: '' });
    expect(await submit(page)).toBe(400);
    const bad = await apiMessage({ email: 'not-an-address', password: 'x', folders: [] });
    await expect(page.locator('#email-error').innerText()).resolves.toBe(bad.match(/email: ([^;]+)/)![1]);
    await expect(page.locator('#folders-error').innerText()).resolves.toBe(bad.match(/folders: ([^;]+)/)![1]);
    await expect(page.getByLabel('Address').getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.getByLabel('Address').inputValue()).resolves.toBe('not-an-address');
    await expect(page.getByLabel('Password').inputValue()).resolves.toBe('');
    await expect(page.getByRole('alert').innerText()).resolves.toContain('The mailbox was not created');
    await shot(page, '04-new-errors');

    // A domain no mail service serves: said while typing (the resolve lookup) and, on submit, at the mail service.
    await fillNewMailbox(page, { email: 'cy@nowhere.test', password: 'x' });
    await page.locator('#provider-found', { hasText: 'No provider serves the domain nowhere.test' }).waitFor();
    expect(await submit(page)).toBe(400);
    await expect(page.locator('#providerId-error').innerText()).resolves.toBe((await apiMessage({ email: 'cy@nowhere.test', password: 'x' })).replace(/^providerId: /, ''));

    // A password mail service without a password.
    await fillNewMailbox(page, { email: 'dee@contoso.com' });
    expect(await submit(page)).toBe(400);
    await expect(page.locator('#password-error').innerText()).resolves.toBe('is required because provider "Dovecot" uses basic authentication');

    // An address that already has a mailbox: the API's 409, at the address.
    await fillNewMailbox(page, { email: 'ANA@contoso.com', password: 'x' });
    expect(await submit(page)).toBe(409);
    await expect(page.locator('#email-error').innerText()).resolves.toMatch(/^a mailbox for ana@contoso\.com already exists \(id [0-9a-f-]{36}\)$/);
    expect((await world.api.http.get('/v1/mailboxes').query({ search: 'dee@' }).set(world.api.auth).expect(200)).body.total).toBe(0);
    // The refused posts show in the browser console as failed resources (400/409): expected here.
    browser.forgive(/status of 40[09]/);
    await context.close();
  });

  it('deletes a mailbox after asking, and not when the question is declined', async () => {
    const doomed = await world.mailbox('doomed@contoso.com');
    const { context, page } = await browser.signedIn();
    await page.goto(`/console/mailboxes/${doomed.id}`);
    // Without the form's CSRF token nothing is deleted.
    expect((await context.request.post(`/console/mailboxes/${doomed.id}/delete`, { form: {}, maxRedirects: 0 })).status()).toBe(403);
    const questions: string[] = [];
    page.once('dialog', (dialog) => {
      questions.push(dialog.message());
      void dialog.dismiss();
    });
    await page.getByRole('button', { name: 'Delete mailbox' }).click();
    await world.api.http.get(`/v1/mailboxes/${doomed.id}`).set(world.api.auth).expect(200);
    expect(new URL(page.url()).pathname).toBe(`/console/mailboxes/${doomed.id}`);

    page.once('dialog', (dialog) => {
      questions.push(dialog.message());
      void dialog.accept();
    });
    await Promise.all([page.waitForURL(/\/console\/mailboxes\?done=deleted$/), page.getByRole('button', { name: 'Delete mailbox' }).click()]);
    expect(questions).toEqual([expect.stringMatching(/^Delete doomed@contoso\.com\? .*cannot be undone\.$/), questions[0]]);
    await expect(page.getByRole('status').first().innerText()).resolves.toContain('Mailbox deleted');
    await world.api.http.get(`/v1/mailboxes/${doomed.id}`).set(world.api.auth).expect(404);
    await expect(page.locator('table.mailboxes').innerText()).resolves.not.toContain('doomed@contoso.com');
    await context.close();
  });

  it('pages through 10,000 mailboxes: page count, next, previous, last, and a page past the end', async () => {
    const fabrikam = (
      await world.api.http
        .post('/v1/providers')
        .set(world.api.auth)
        .send({ name: 'Fabrikam', type: 'imap', host: '127.0.0.1', port: world.dovecot.port, secure: false, domains: ['fabrikam.com'] })
        .expect(201)
    ).body.id as string;
    // Disabled (no listener tries them), created a millisecond apart so the list's order is known.
    await queryDatabase(
      world.db.url,
      `INSERT INTO mailboxes (id, email, provider_id, login, external_id, enabled, created_at, updated_at)
       SELECT gen_random_uuid(), 'user' || lpad(n::text, 5, '0') || '@fabrikam.com', $1, 'user' || lpad(n::text, 5, '0') || '@fabrikam.com',
              'bulk-' || n, false, now() + n * interval '1 millisecond', now()
         FROM generate_series(1, 10000) AS n`,
      [fabrikam],
    );
    const { context, page } = await browser.signedIn();
    const rows = page.locator('table.mailboxes tbody tr');
    const firstAddress = () => rows.first().locator('a').innerText();
    await page.goto(`/console/mailboxes?provider=${fabrikam}`);
    await expect(rows.count()).resolves.toBe(50);
    await expect(page.locator('.pager').innerText()).resolves.toContain('Showing 1–50 of 10,000 · page 1 of 200');
    await expect(page.locator('.pager [aria-disabled="true"]', { hasText: 'Previous' }).count()).resolves.toBe(1);

    await Promise.all([page.waitForURL(/page=2$/), page.getByRole('link', { name: 'Next ›' }).click()]);
    await expect(firstAddress()).resolves.toBe('user00051@fabrikam.com');
    await expect(page.locator('[data-page]').innerText()).resolves.toBe('2');

    const started = Date.now();
    await Promise.all([page.waitForURL(/page=200$/), page.getByRole('link', { name: 'Last »' }).click()]);
    const lastPageMs = Date.now() - started;
    await expect(firstAddress()).resolves.toBe('user09951@fabrikam.com');
    await expect(rows.last().locator('a').innerText()).resolves.toBe('user10000@fabrikam.com');
    await expect(page.locator('.pager [aria-disabled="true"]', { hasText: 'Next' }).count()).resolves.toBe(1);
    await shot(page, '05-list-last-page');

    await Promise.all([page.waitForURL(/page=199$/), page.getByRole('link', { name: '‹ Previous' }).click()]);
    await expect(firstAddress()).resolves.toBe('user09901@fabrikam.com');
    // Filters stay on every page link; a numbered link goes where it says.
    expect(await page.getByRole('link', { name: 'Page 197' }).getAttribute('href')).toBe(`/console/mailboxes?provider=${fabrikam}&page=197`);

    await page.goto(`/console/mailboxes?provider=${fabrikam}&page=500`);
    await expect(page.getByRole('heading', { name: 'There is no page 500' }).isVisible()).resolves.toBe(true);
    await Promise.all([page.waitForURL(/page=200$/), page.getByRole('link', { name: 'Go to the last page' }).click()]);

    // Search narrows within them: one page, no page links.
    await page.goto('/console/mailboxes?search=user0999');
    await expect(rows.count()).resolves.toBe(10);
    await expect(page.locator('.pages').count()).resolves.toBe(0);
    // Everything, unfiltered: the mailboxes of the tests above come first.
    await page.goto('/console/mailboxes');
    const total = (await world.api.http.get('/v1/mailboxes').query({ limit: 1 }).set(world.api.auth).expect(200)).body.total as number;
    await expect(page.locator('.pager').innerText()).resolves.toContain(`of ${total.toLocaleString('en-US')} · page 1 of ${Math.ceil(total / 50)}`);
    // Generous for a loaded CI machine; the point is that the last of 10,000 is not a scan of seconds.
    expect(lastPageMs).toBeLessThan(10_000);
    await context.close();
  }, 120_000);

  it('reads well at phone width: the form, a mailbox and the paged list scroll only downwards', async () => {
    const ana = (await world.api.http.get('/v1/mailboxes').query({ email: 'ana@contoso.com' }).set(world.api.auth).expect(200)).body.items[0];
    const { context, page } = await browser.signedIn({ width: 390, height: 844 });
    for (const [path, name] of [
      ['/console/mailboxes/new', '06-phone-new'],
      [`/console/mailboxes/${ana.id}`, '07-phone-mailbox'],
      ['/console/mailboxes?page=3', '08-phone-list'],
    ] as const) {
      await page.goto(path);
      expect({ path, sideways: await browser.sidewaysScroll(page) }).toEqual({ path, sideways: { page: 0, tables: 0 } });
      await shot(page, name);
    }
    await context.close();
  });
});
