import { Page, Response } from 'playwright-core';
import { CONSOLE_CSP } from '@app/console';
import { ConsoleBrowser, queryDatabase, useApiSuite } from '@app/testing';

// page.evaluate callbacks run in the browser: they reach its globals through `globalThis as any` (this project compiles without the DOM library).

const SECRET = 'first-Client-Secret-7f3a9c';
const SECRET_2 = 'second-Client-Secret-b41e02';

/**
 * The console's mail-service pages in a real Chromium against the real API (Postgres, Redis): the form
 * goes through the API's own validation and ProvidersService, its refusals show at their fields in the
 * API's words, client secrets are write-only, delete is refused while a mailbox uses the service.
 */
describe('console: mail services (real Chromium, API, Postgres, Redis)', () => {
  const suite = useApiSuite();
  const browser = new ConsoleBrowser(() => suite.api.url);
  let serviceId: string;

  beforeAll(() => browser.launch(), 60_000);
  afterAll(() => browser.close());
  afterEach(() => {
    expect(browser.takeProblems()).toEqual([]);
  });

  const api = () => suite.api.http;
  const auth = () => suite.api.auth;
  const shot = (page: Page, name: string) => browser.shot(page, `services-${name}`);
  /** What the API answers to the same body the form stands for: the message the page must show. */
  const apiRefusal = async (body: Record<string, unknown>, status: number) => (await api().post('/v1/providers').set(auth()).send(body).expect(status)).body.message as string;
  const partFor = (message: string, field: string) => message.split('; ').find((part) => part.startsWith(`${field}: `))!.slice(field.length + 2);
  const storedSecret = async (id: string) =>
    (await queryDatabase<{ secret: string | null }>(suite.db.url, 'SELECT oauth_client_secret_encrypted::text AS secret FROM providers WHERE id = $1', [id]))[0].secret;
  const submit = (page: Page, button: string): Promise<Response> => browser.submit(page, page.getByRole('button', { name: button }));
  const fieldError = (page: Page, id: string) => page.locator(`#${id}-error`).innerText();
  const expectInvalid = async (page: Page, id: string) => {
    const control = page.locator(`#${id}`);
    expect(await control.getAttribute('aria-invalid')).toBe('true');
    expect((await control.getAttribute('aria-describedby'))!.split(' ')).toContain(`${id}-error`);
  };
  const noHorizontalScroll = (page: Page) => browser.sidewaysScroll(page);

  it('shows an empty list that says what to do, under its own entry in the navigation', async () => {
    const { context, page } = await browser.signedIn();
    const response = await page.goto('/console/services');
    expect(response!.headers()['content-security-policy']).toBe(CONSOLE_CSP);
    await expect(page.getByRole('link', { name: 'Mail services' }).getAttribute('aria-current')).resolves.toBe('page');
    await expect(page.getByRole('heading', { name: 'No mail services yet' }).isVisible()).resolves.toBe(true);
    await expect(page.locator('.empty-state').innerText()).resolves.toContain('mailboxes are then matched to it by the domain of their address');
    // Its own stylesheet applied (a file of ours, linked from the page, under the strict CSP).
    expect(await page.locator('.page-head').evaluate((el) => (globalThis as any).getComputedStyle(el).display)).toBe('flex');
    await shot(page, '01-empty');
    await Promise.all([page.waitForURL(/\/console\/services\/new$/), page.getByRole('link', { name: 'Add a mail service' }).click()]);
    await expect(page.getByRole('heading', { level: 1 }).innerText()).resolves.toBe('Add a mail service');
    await context.close();
  });

  it("creates a mail service through the form: each refusal at its field in the API's words, typed values kept, the secret never", async () => {
    const { context, page } = await browser.signedIn();
    await page.goto('/console/services/new');
    await page.getByLabel('Name').fill('Contoso Exchange');
    await page.getByLabel('Service address').fill('outlook.office365.com:993');
    await page.getByLabel('Domains').fill('contoso.com');
    await page.getByLabel('Send emails').check();
    await page.getByRole('radio', { name: /^OAuth 2\.0/ }).check();
    await page.getByLabel('Client (application) id').fill('app-123');
    await page.getByLabel('Client secret').fill(SECRET);
    await page.getByLabel('Tenant').fill('contoso.com');

    // 1. A field the API's validation pipe refuses.
    const form = { name: 'Contoso Exchange', type: 'imap', host: 'outlook.office365.com:993', sendEmails: true, authMethod: 'oauth2', oauth: { clientId: 'app-123', clientSecret: SECRET, tenant: 'contoso.com' }, domains: ['contoso.com'] };
    const hostProblem = partFor(await apiRefusal(form, 400), 'host');
    expect((await submit(page, 'Create mail service')).status()).toBe(400);
    await expect(fieldError(page, 'f-host')).resolves.toBe(hostProblem);
    await expectInvalid(page, 'f-host');
    await expect(page.getByRole('alert').innerText()).resolves.toContain(`Service address: ${hostProblem}`);
    await expect(page.getByLabel('Service address').inputValue()).resolves.toBe('outlook.office365.com:993');
    await expect(page.getByLabel('Name').inputValue()).resolves.toBe('Contoso Exchange');
    await expect(page.getByLabel('Client (application) id').inputValue()).resolves.toBe('app-123');
    await expect(page.getByLabel('Send emails').isChecked()).resolves.toBe(true);
    await expect(page.getByLabel('Client secret').inputValue()).resolves.toBe('');
    expect(await page.content()).not.toContain(SECRET);
    // Other fields are not marked.
    expect(await page.locator('#f-name').getAttribute('aria-invalid')).toBeNull();
    // The summary links to the field.
    await page.getByRole('alert').getByRole('link', { name: 'Service address' }).click();
    expect(new URL(page.url()).hash).toBe('#f-host');
    await shot(page, '02-create-refused');

    // 2. A rule across fields that ProvidersService checks.
    await page.getByLabel('Service address').fill('outlook.office365.com');
    await page.getByLabel('Send emails').uncheck();
    await page.getByLabel('Load emails').uncheck();
    await page.getByLabel('Client secret').fill(SECRET);
    const loadProblem = partFor(await apiRefusal({ ...form, host: 'outlook.office365.com', loadEmails: false, sendEmails: false }, 400), 'loadEmails');
    expect((await submit(page, 'Create mail service')).status()).toBe(400);
    await expect(fieldError(page, 'f-loadEmails')).resolves.toBe(loadProblem);
    await expectInvalid(page, 'f-loadEmails');
    expect(await page.locator('#f-host').getAttribute('aria-invalid')).toBeNull();
    expect(await page.content()).not.toContain(SECRET);

    // 3. Fixed: created, and the API has every setting.
    await page.getByLabel('Load emails').check();
    await page.getByLabel('Send emails').check();
    await page.getByLabel('Client secret').fill(SECRET);
    expect((await submit(page, 'Create mail service')).status()).toBe(303);
    expect(new URL(page.url()).searchParams.get('done')).toBe('created');
    await expect(page.getByRole('status').first().innerText()).resolves.toContain('Mail service created');
    serviceId = new URL(page.url()).pathname.split('/').pop()!;
    const stored = (await api().get(`/v1/providers/${serviceId}`).set(auth()).expect(200)).body;
    expect(stored).toMatchObject({
      name: 'Contoso Exchange',
      type: 'imap',
      host: 'outlook.office365.com',
      port: 993,
      secure: true,
      verifyCertificate: true,
      loadEmails: true,
      sendEmails: true,
      loginFormat: 'email',
      authMethod: 'oauth2',
      oauth: { clientId: 'app-123', hasClientSecret: true, tenant: 'contoso.com', authorityHost: 'https://login.microsoftonline.com', appOnly: false },
      domains: ['contoso.com'],
      // Derived from the host by the API, since the form left them blank.
      smtp: { host: 'smtp.office365.com', port: 587, security: 'starttls' },
      appendToSent: false,
    });
    await expect(page.locator('[data-secret-state]').getAttribute('data-secret-state')).resolves.toBe('set');
    expect(await page.content()).not.toContain(SECRET);
    await context.close();
    // The refused posts show in the browser console as failed resources: expected here.
    browser.forgive(/status of 400/);
  });

  it('edits it: only what changed is saved, derived settings follow the host, a blank secret keeps the stored one', async () => {
    const { context, page } = await browser.signedIn();
    const firstCiphertext = await storedSecret(serviceId);
    expect(firstCiphertext).toBeTruthy();
    expect(firstCiphertext).not.toContain(SECRET);
    await page.goto(`/console/services/${serviceId}`);
    await expect(page.getByLabel('Service address').inputValue()).resolves.toBe('outlook.office365.com');
    await expect(page.getByLabel('Client secret').inputValue()).resolves.toBe('');

    await page.getByLabel('Name').fill('Contoso mail');
    await page.getByLabel('Service address').fill('imap.contoso.com');
    await page.getByLabel('Domains').fill('contoso.com\nfabrikam.com');
    expect((await submit(page, 'Save changes')).status()).toBe(303);
    await expect(page.getByRole('status').first().innerText()).resolves.toBe('Changes saved.');
    let stored = (await api().get(`/v1/providers/${serviceId}`).set(auth()).expect(200)).body;
    expect(stored).toMatchObject({ name: 'Contoso mail', host: 'imap.contoso.com', domains: ['contoso.com', 'fabrikam.com'], oauth: { hasClientSecret: true, tenant: 'contoso.com' } });
    // The SMTP server and the Sent copy were never chosen: they follow the new host.
    expect(stored.smtp).toEqual({ host: 'imap.contoso.com', port: 587, security: 'starttls' });
    expect(stored.appendToSent).toBe(true);
    expect(await storedSecret(serviceId)).toBe(firstCiphertext);
    await expect(page.locator('[data-secret-state]').getAttribute('data-secret-state')).resolves.toBe('set');

    // A refused edit keeps what was typed, never the new secret, and names the field.
    await page.getByLabel('Tenant').fill('not a tenant!');
    await page.getByLabel('Client secret').fill(SECRET_2);
    const tenantProblem = partFor((await api().patch(`/v1/providers/${serviceId}`).set(auth()).send({ oauth: { tenant: 'not a tenant!' } }).expect(400)).body.message, 'oauth.tenant');
    expect((await submit(page, 'Save changes')).status()).toBe(400);
    await expect(fieldError(page, 'f-oauth-tenant')).resolves.toBe(tenantProblem);
    await expectInvalid(page, 'f-oauth-tenant');
    await expect(page.getByLabel('Tenant').inputValue()).resolves.toBe('not a tenant!');
    expect(await page.content()).not.toContain(SECRET_2);
    expect(await storedSecret(serviceId)).toBe(firstCiphertext);
    await shot(page, '03-edit-refused');

    // A typed secret replaces the stored one.
    await page.getByLabel('Tenant').fill('contoso.com');
    await page.getByLabel('Client secret').fill(SECRET_2);
    expect((await submit(page, 'Save changes')).status()).toBe(303);
    expect(await storedSecret(serviceId)).not.toBe(firstCiphertext);
    stored = (await api().get(`/v1/providers/${serviceId}`).set(auth()).expect(200)).body;
    expect(stored.oauth).toMatchObject({ hasClientSecret: true, tenant: 'contoso.com' });

    // Saving an untouched form writes nothing.
    expect((await submit(page, 'Save changes')).status()).toBe(303);
    await expect(page.getByRole('status').first().innerText()).resolves.toBe('Nothing to save: no setting was changed.');
    expect((await api().get(`/v1/providers/${serviceId}`).set(auth()).expect(200)).body.updatedAt).toBe(stored.updatedAt);
    for (const secret of [SECRET, SECRET_2]) expect(await page.content()).not.toContain(secret);
    await shot(page, '04-edit');
    await context.close();
    browser.forgive(/status of 400/);
  });

  it("refuses to delete it while a mailbox uses it, with the API's message, then deletes it", async () => {
    const mailbox = (await api().post('/v1/mailboxes').set(auth()).send({ email: 'ana@fabrikam.com' }).expect(201)).body;
    const { context, page } = await browser.signedIn();
    await page.goto('/console/services');
    const row = page.locator(`tr[data-service="${serviceId}"]`);
    const rowText = await row.innerText();
    for (const text of ['Contoso mail', 'IMAP', 'imap.contoso.com:993', 'OAuth 2.0', 'tenant contoso.com', 'secret set', 'Load', 'Send', 'contoso.com, fabrikam.com']) expect(rowText).toContain(text);
    await expect(row.locator(`[data-count="service.${serviceId}.mailboxes"]`).innerText()).resolves.toBe('1');
    await shot(page, '05-list');

    const refusal = (await api().delete(`/v1/providers/${serviceId}`).set(auth()).expect(409)).body.message;
    await page.goto(`/console/services/${serviceId}`);
    page.once('dialog', (dialog) => void dialog.accept());
    expect((await submit(page, 'Delete mail service')).status()).toBe(409);
    await expect(page.locator('#delete-refused').innerText()).resolves.toBe(refusal);
    await expect(page.locator('#delete-refused').getAttribute('role')).resolves.toBe('alert');
    await api().get(`/v1/providers/${serviceId}`).set(auth()).expect(200);
    await shot(page, '06-delete-refused');
    browser.forgive(/status of 409/);

    // Dismissing the confirmation sends nothing.
    await api().delete(`/v1/mailboxes/${mailbox.id}`).set(auth()).expect(204);
    let posted = false;
    page.on('request', (request) => (posted ||= request.method() === 'POST'));
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.getByRole('button', { name: 'Delete mail service' }).click();
    expect(posted).toBe(false);

    page.once('dialog', (dialog) => void dialog.accept());
    expect((await submit(page, 'Delete mail service')).status()).toBe(303);
    expect(new URL(page.url()).pathname).toBe('/console/services');
    await expect(page.getByRole('status').first().innerText()).resolves.toBe('Mail service deleted.');
    await expect(page.getByRole('heading', { name: 'No mail services yet' }).isVisible()).resolves.toBe(true);
    await api().get(`/v1/providers/${serviceId}`).set(auth()).expect(404);
    await context.close();
  });

  it('shows only the sections the chosen type and authentication use, works from the keyboard, and labels every control', async () => {
    const { context, page } = await browser.signedIn();
    await page.goto('/console/services/new');
    const visible = (legend: string) => page.locator('fieldset.form-card', { has: page.locator(`legend:text-is("${legend}")`) }).isVisible();
    expect({ imap: await visible('IMAP server'), smtp: await visible('Sending (SMTP)'), oauth: await visible('OAuth 2.0'), graph: await visible('Microsoft Graph') }).toEqual({ imap: true, smtp: true, oauth: false, graph: false });
    // Every control has a label (radios through theirs, and their group's legend).
    const unlabelled = await page.locator('form.provider-form').evaluate((form) =>
      [...form.querySelectorAll('input:not([type=hidden]), select, textarea')].filter((control: any) => control.labels.length === 0).map((control: any) => control.name),
    );
    expect(unlabelled).toEqual([]);

    // Keyboard only: arrows choose the type and the authentication, Enter in a field submits.
    await page.getByRole('radio', { name: /^IMAP/ }).focus();
    await page.keyboard.press('ArrowDown');
    await expect(page.getByRole('radio', { name: /^Microsoft Graph/ }).isChecked()).resolves.toBe(true);
    await page.getByRole('radio', { name: /^Basic/ }).focus();
    await page.keyboard.press('ArrowDown');
    await expect(page.getByRole('radio', { name: /^OAuth 2\.0/ }).isChecked()).resolves.toBe(true);
    expect({ imap: await visible('IMAP server'), smtp: await visible('Sending (SMTP)'), oauth: await visible('OAuth 2.0'), graph: await visible('Microsoft Graph') }).toEqual({ imap: false, smtp: false, oauth: true, graph: true });
    await page.getByLabel('Name').focus();
    await page.keyboard.type('Fabrikam Graph');
    await page.getByLabel('Client (application) id').focus();
    await page.keyboard.type('graph-app');
    await page.getByLabel('App-only').focus();
    await page.keyboard.press('Space');
    // App-only with the default tenant (common) and no secret: two rules ProvidersService checks, each at its field.
    const refusal = await apiRefusal({ name: 'Fabrikam Graph', type: 'microsoft-graph', authMethod: 'oauth2', oauth: { clientId: 'graph-app', appOnly: true } }, 400);
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByLabel('Client (application) id').press('Enter')]);
    expect(response.status()).toBe(400);
    await page.waitForLoadState();
    await expect(fieldError(page, 'f-oauth-tenant')).resolves.toBe(partFor(refusal, 'oauth.tenant'));
    await expect(fieldError(page, 'f-oauth-clientSecret')).resolves.toBe(partFor(refusal, 'oauth.clientSecret'));
    await expectInvalid(page, 'f-oauth-clientSecret');
    await expect(page.getByLabel('App-only').isChecked()).resolves.toBe(true);
    await shot(page, '07-graph-refused');

    await page.getByLabel('Tenant').fill('fabrikam.onmicrosoft.com');
    await page.getByLabel('Client secret').fill(SECRET);
    await Promise.all([page.waitForURL(/done=created/), page.getByLabel('Tenant').press('Enter')]);
    const id = new URL(page.url()).pathname.split('/').pop()!;
    expect((await api().get(`/v1/providers/${id}`).set(auth()).expect(200)).body).toMatchObject({
      type: 'microsoft-graph',
      graphBaseUrl: 'https://graph.microsoft.com/v1.0',
      smtp: null,
      oauth: { clientId: 'graph-app', appOnly: true, tenant: 'fabrikam.onmicrosoft.com', hasClientSecret: true, scopes: ['https://graph.microsoft.com/.default'] },
    });
    expect(await page.content()).not.toContain(SECRET);
    await context.close();
    browser.forgive(/status of 400/);
  });

  it('refuses a post without the CSRF token or with a forged one, and creates nothing', async () => {
    const { context, page } = await browser.signedIn();
    const before = (await api().get('/v1/providers').set(auth()).expect(200)).body.total;
    const forged: Record<string, string>[] = [{ name: 'Forged', type: 'imap', host: 'mail.evil.test' }, { _csrf: 'forged', name: 'Forged', type: 'imap', host: 'mail.evil.test' }];
    for (const form of forged) {
      expect((await context.request.post('/console/services', { form, maxRedirects: 0 })).status()).toBe(403);
    }
    const listed = (await api().get('/v1/providers').set(auth()).expect(200)).body;
    expect((await context.request.post(`/console/services/${listed.items[0].id}/delete`, { form: {}, maxRedirects: 0 })).status()).toBe(403);
    expect((await context.request.post(`/console/services/${listed.items[0].id}`, { form: { name: 'Forged' }, maxRedirects: 0 })).status()).toBe(403);
    const after = (await api().get('/v1/providers').set(auth()).expect(200)).body;
    expect(after.total).toBe(before);
    expect(after.items[0].name).toBe(listed.items[0].name);
    // With the page's own token it goes through.
    await page.goto('/console/services/new');
    const token = await page.locator('input[name="_csrf"]').first().inputValue();
    expect((await context.request.post('/console/services', { form: { _csrf: token, name: 'Plain', type: 'imap', host: 'mail.plain.test', loadEmails: 'on', secure: 'on', verifyCertificate: 'on', loginFormat: 'email', authMethod: 'basic' }, maxRedirects: 0 })).status()).toBe(303);
    await context.close();
  });

  it("refuses a domain another service serves at the Domains field, in the API's words (409)", async () => {
    const holder = (await api().post('/v1/providers').set(auth()).send({ name: 'Northwind', type: 'imap', host: 'mail.northwind.test', domains: ['northwind.com'] }).expect(201)).body;
    const { context, page } = await browser.signedIn();
    await page.goto('/console/services/new');
    await page.getByLabel('Name').fill('Second Northwind');
    await page.getByLabel('Service address').fill('imap.northwind.test');
    await page.getByLabel('Domains').fill('northwind.com');
    const refusal = await apiRefusal({ name: 'Second Northwind', type: 'imap', host: 'imap.northwind.test', domains: ['northwind.com'] }, 409);
    expect(refusal).toContain(holder.id);
    expect((await submit(page, 'Create mail service')).status()).toBe(409);
    await expect(fieldError(page, 'f-domains')).resolves.toBe(partFor(refusal, 'domains'));
    await expectInvalid(page, 'f-domains');
    await expect(page.getByLabel('Domains').inputValue()).resolves.toBe('northwind.com');
    await context.close();
    browser.forgive(/status of 409/);
  });

  it('reads well at phone width: no horizontal scrolling on the list and the forms', async () => {
    const { context, page } = await browser.signedIn({ width: 390, height: 844 });
    const imap = (await api().get('/v1/providers').set(auth()).expect(200)).body.items.find((provider: { type: string }) => provider.type === 'imap');
    for (const [path, name] of [['/console/services', '08-phone-list'], ['/console/services/new', '09-phone-new'], [`/console/services/${imap.id}`, '10-phone-edit']] as const) {
      await page.goto(path);
      expect({ path, sideways: await noHorizontalScroll(page) }).toEqual({ path, sideways: { page: 0, tables: 0 } });
      await shot(page, name);
    }
    // With problems shown too.
    await page.getByLabel('Service address').fill('https://mail.example.com/path-that-is-rather-long-for-a-phone-screen');
    await submit(page, 'Save changes');
    await expect(page.locator('#f-host-error').isVisible()).resolves.toBe(true);
    expect(await noHorizontalScroll(page)).toEqual({ page: 0, tables: 0 });
    await shot(page, '11-phone-refused');
    await context.close();
    browser.forgive(/status of 400/);
  });
});
