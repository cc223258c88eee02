import { Page } from 'playwright-core';
import { ConsoleBrowser, DovecotServer, expectText, freePort, OAUTH_REDIRECT_URI, OAuthWorld, PUBLIC_CLIENT_ID, TcpProxy } from '@app/testing';

// page.evaluate callbacks run in the browser: they reach its globals through `globalThis as any` (this project compiles without the DOM library).

/**
 * A mailbox's OAuth token in the console, in a real Chromium against the real API and listener, Postgres,
 * Redis, the fake Entra ID (device code, consent page) and Dovecot checking XOAUTH2 tokens with it: sign in
 * with a code (the page turns Active by itself), sign in with the browser (back to the console, "Signed in
 * as …"), delete the token, CSRF.
 */
describe('console: OAuth token panel (real Chromium, API, listener, fake Entra ID, Dovecot XOAUTH2)', () => {
  const world = new OAuthWorld();
  let dovecot: DovecotServer;
  let proxy: TcpProxy;
  // The API's public address: where the identity provider sends the browser back (OAUTH_REDIRECT_URI) must
  // be known before the API starts, so a relay on a port chosen beforehand stands in front of it.
  let base: string;
  const browser = new ConsoleBrowser(() => base, { context: { ignoreHTTPSErrors: true, permissions: ['clipboard-read', 'clipboard-write'] } });
  let seq = 0;

  beforeAll(async () => {
    const publicPort = await freePort();
    base = `http://127.0.0.1:${publicPort}`;
    await world.start({ listener: true, env: { OAUTH_REDIRECT_URI: `${base}/v1/oauth/callback`, SYNC_RECONCILE_INTERVAL_MS: '200' } });
    world.entra.registerApp({ clientId: PUBLIC_CLIENT_ID, redirectUris: [OAUTH_REDIRECT_URI, `${base}/v1/oauth/callback`] });
    proxy = await TcpProxy.start(Number(new URL(world.api.url).port), '127.0.0.1', publicPort);
    dovecot = await DovecotServer.start({ oauth2IntrospectionUrl: `${world.entra.plainHttpBaseUrl}/introspect`, oauth2Mechanisms: ['xoauth2'] });
    await world.createMicrosoftProvider({ name: 'Contoso (Exchange-like)', domains: ['contoso.com'], host: '127.0.0.1', port: dovecot.port });
    await browser.launch();
  }, 120_000);

  afterAll(async () => {
    await browser.close();
    await proxy?.stop();
    await world.stop();
    await dovecot?.destroy();
  });

  afterEach(() => {
    world.entra.signInOnPage(false);
    expect(browser.takeProblems()).toEqual([]);
  });

  /** A mailbox of the OAuth provider whose person exists at the identity provider and on Dovecot. */
  async function oauthMailbox(): Promise<{ id: string; email: string }> {
    const email = `person${++seq}@contoso.com`;
    world.entra.addUser({ username: email });
    await dovecot.addUser(email, 'unused-password');
    return { ...(await world.createMailbox(email)), email };
  }

  const tokenState = (page: Page) => page.locator('[data-token-panel]').getAttribute('data-token-state');
  const panelText = (page: Page) => page.locator('[data-token-panel]').innerText();

  /** Main-frame navigations from now on: the live update must not be a reload. */
  function countNavigations(page: Page): () => number {
    let count = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) count += 1;
    });
    return () => count;
  }

  it('signs in with a code: the code large and copyable, its address as a link, a countdown; the page turns Active by itself', async () => {
    const { id, email } = await oauthMailbox();
    const { context, page } = await browser.signedIn();
    await page.goto(`/console/mailboxes/${id}`);
    await expect(tokenState(page)).resolves.toBe('not_obtained');
    await expect(panelText(page)).resolves.toContain('Not obtained');
    await expect(page.getByRole('button', { name: 'Delete token' }).isDisabled()).resolves.toBe(true);
    await browser.shot(page, 'token-01-not-obtained');

    await Promise.all([page.waitForURL(`${base}/console/mailboxes/${id}#token`), page.getByRole('button', { name: 'Sign in with a code' }).click()]);
    const issued = world.entra.lastDeviceCode()!;
    await expect(tokenState(page)).resolves.toBe('waiting_for_authorization');
    await expect(panelText(page)).resolves.toContain('Waiting for authorization');
    await expect(page.locator('[data-user-code]').innerText()).resolves.toBe(issued.userCode);
    // Large: the code is the biggest text in the panel.
    expect(parseFloat(await page.locator('[data-user-code]').evaluate((el) => (globalThis as any).getComputedStyle(el).fontSize))).toBeGreaterThanOrEqual(28);
    const link = page.getByRole('link', { name: issued.verificationUri });
    await expect(link.getAttribute('href')).resolves.toBe(`${world.entra.authorityHost}/devicelogin`);

    // The countdown starts near the code's 15 minutes and goes down by itself.
    const countdown = page.locator('[data-countdown]');
    const first = await countdown.innerText();
    expect(first).toMatch(/^1[45]:[0-5]\d$/);
    const seconds = (text: string) => Number(text.split(':')[0]) * 60 + Number(text.split(':')[1]);
    await page.waitForFunction((shown) => (globalThis as any).document.querySelector('[data-countdown]').textContent !== shown, first, { timeout: 10_000 });
    expect(seconds(await countdown.innerText())).toBeLessThan(seconds(first));

    await page.getByRole('button', { name: 'Copy code' }).click();
    // The result is written when the clipboard write resolves, after the click returns.
    await expectText(page.locator('[data-copy-result]'), 'Copied');
    const copied = await page.evaluate(() => (globalThis as any).navigator.clipboard.readText());
    expect(copied).toBe(issued.userCode);
    await browser.shot(page, 'token-02-device-code');
    // The large code still fits a phone's width.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await browser.sidewaysScroll(page)).toEqual({ page: 0, tables: 0 });
    await browser.shot(page, 'token-07-phone-device-code');
    await page.setViewportSize({ width: 1280, height: 900 });

    // From here on the page must change by itself: no navigation, and what the page holds in memory stays.
    const navigations = countNavigations(page);
    await page.evaluate(() => ((globalThis as any).stillTheSamePage = true));

    // The person opens the address, pastes the code and signs in, in another tab.
    const [login] = await Promise.all([context.waitForEvent('page'), link.click()]);
    await login.waitForLoadState();
    expect(login.url()).toBe(`${world.entra.authorityHost}/devicelogin`);
    await login.getByPlaceholder('Code').fill(copied);
    await login.getByPlaceholder('Email').fill(email);
    await login.getByRole('button', { name: 'Next' }).click();
    await expect(login.getByRole('heading', { level: 1 }).innerText()).resolves.toBe('You have signed in');
    await login.close();

    await page.locator('[data-token-panel][data-token-state="active"]').waitFor({ timeout: 30_000 });
    await expect(panelText(page)).resolves.toContain('Active');
    await expect(page.locator('[data-signed-in-as]').innerText()).resolves.toBe(`Signed in as ${email}`);
    await expect(page.locator('[data-user-code]').count()).resolves.toBe(0);
    await expect(page.locator('[data-token-announce]').innerText()).resolves.toBe('Token status: Active');
    expect(navigations()).toBe(0);
    await expect(page.evaluate(() => (globalThis as any).stillTheSamePage)).resolves.toBe(true);
    await browser.shot(page, 'token-03-active');

    // The API agrees, and the token is good for the mail server: the listener logs in with XOAUTH2.
    const status = await world.waitForStatus(id, (s) => s.connection.state === 'connected', 30_000);
    expect(status.token).toMatchObject({ state: 'active', account: email, expiresAt: expect.any(String), lastRefreshAt: expect.any(String) });
    // The page's connection card follows by itself too (its own live poll, beside the token panel's), still without a reload.
    await page.locator('[data-live="connection"] [data-state="connected"]').waitFor({ timeout: 30_000 });
    await expectText(page.locator('[data-live-announce]'), 'Connection: Connected');
    expect(navigations()).toBe(0);
    await expect(page.evaluate(() => (globalThis as any).stillTheSamePage)).resolves.toBe(true);
    await browser.shot(page, 'token-08-active-connected');
    await context.close();
  });

  it('signs in with the browser: the consent page, then back on the mailbox page showing "Signed in as …"', async () => {
    const { id, email } = await oauthMailbox();
    world.entra.signInOnPage();
    const { context, page } = await browser.signedIn();
    await page.goto(`/console/mailboxes/${id}`);

    await Promise.all([
      page.waitForURL((url) => url.origin === world.entra.authorityHost && url.pathname.endsWith('/oauth2/v2.0/authorize')),
      page.getByRole('button', { name: 'Sign in with the browser' }).click(),
    ]);
    const consent = new URL(page.url());
    expect(consent.searchParams.get('redirect_uri')).toBe(`${base}/v1/oauth/callback`);
    expect(consent.searchParams.get('login_hint')).toBe(email);
    await expect(page.getByRole('heading', { level: 1 }).innerText()).resolves.toBe('Sign in');
    await expect(page.locator('input[name="login"]').inputValue()).resolves.toBe(email);
    expect((await world.status(id)).token.state).toBe('waiting_for_authorization');
    await browser.shot(page, 'token-04-consent');

    await Promise.all([page.waitForURL(`${base}/console/mailboxes/${id}`, { timeout: 30_000 }), page.getByRole('button', { name: 'Accept' }).click()]);
    // Still signed in to the console (not sent to its sign-in page), and the sign-in shows.
    await expect(page.getByRole('heading', { level: 1 }).innerText()).resolves.toBe(email);
    await expect(tokenState(page)).resolves.toBe('active');
    await expect(page.locator('[data-signed-in-as]').innerText()).resolves.toBe(`Signed in as ${email}`);
    await browser.shot(page, 'token-05-signed-in-browser');
    expect((await world.status(id)).token).toMatchObject({ state: 'active', account: email });
    await context.close();
  });

  it('a browser sign-in that fails comes back by a link, and the panel says why', async () => {
    const { id, email } = await oauthMailbox();
    world.entra.signInOnPage();
    const { context, page } = await browser.signedIn();
    await page.goto(`/console/mailboxes/${id}`);
    await Promise.all([page.waitForURL((url) => url.origin === world.entra.authorityHost), page.getByRole('button', { name: 'Sign in with the browser' }).click()]);
    await Promise.all([page.waitForURL((url) => url.pathname === '/v1/oauth/callback'), page.getByRole('button', { name: 'Cancel' }).click()]);
    await expect(page.getByRole('heading', { level: 1 }).innerText()).resolves.toBe('Sign-in failed');
    await Promise.all([page.waitForURL(`${base}/console/mailboxes/${id}`), page.getByRole('link', { name: 'Back to the mailbox in the console' }).click()]);
    await expect(tokenState(page)).resolves.toBe('not_obtained');
    await expect(page.locator('[data-token-error]').innerText()).resolves.toContain('access_denied');
    expect(await page.locator('[data-signed-in-as]').count()).toBe(0);
    expect(email).toContain('@contoso.com');
    // The browser logs the callback's 400 as a failed resource: expected here.
    browser.forgive(/status of 400 .* at http:\/\/127\.0\.0\.1:\d+\/v1\/oauth\/callback\?/);
    await context.close();
  });

  it('deletes the token after a confirmation: back to Not obtained', async () => {
    const { id, email } = await oauthMailbox();
    await world.api.http.put(`/v1/mailboxes/${id}/token`).set(world.api.auth).send({ refreshToken: await world.refreshTokenFor(email) }).expect(200);
    const { context, page } = await browser.signedIn();
    await page.goto(`/console/mailboxes/${id}`);
    await expect(tokenState(page)).resolves.toBe('active');

    // Cancelled: nothing happens.
    const questions: string[] = [];
    page.once('dialog', (dialog) => {
      questions.push(dialog.message());
      void dialog.dismiss();
    });
    await page.getByRole('button', { name: 'Delete token' }).click();
    expect(questions).toEqual([`Delete the token of ${email}? The mailbox stops syncing until someone signs in again.`]);
    expect((await world.status(id)).token.state).toBe('active');

    page.once('dialog', (dialog) => void dialog.accept());
    await Promise.all([page.waitForURL(`${base}/console/mailboxes/${id}#token`), page.getByRole('button', { name: 'Delete token' }).click()]);
    await expect(tokenState(page)).resolves.toBe('not_obtained');
    await expect(panelText(page)).resolves.toContain('Not obtained');
    expect(await page.locator('[data-signed-in-as]').count()).toBe(0);
    await expect(page.getByRole('button', { name: 'Delete token' }).isDisabled()).resolves.toBe(true);
    expect((await world.status(id)).token).toMatchObject({ state: 'not_obtained', expiresAt: null, account: null });
    await browser.shot(page, 'token-06-deleted');
    await context.close();
  });

  it("refuses the token forms without the session's CSRF token (403) and changes nothing", async () => {
    const { id, email } = await oauthMailbox();
    await world.api.http.put(`/v1/mailboxes/${id}/token`).set(world.api.auth).send({ refreshToken: await world.refreshTokenFor(email) }).expect(200);
    const { context, page } = await browser.signedIn();
    const issuedBefore = world.entra.lastDeviceCode()?.userCode;
    for (const action of ['delete', 'device-code', 'browser-sign-in']) {
      const path = `/console/mailboxes/${id}/token/${action}`;
      expect({ action, status: (await context.request.post(path, { form: {}, maxRedirects: 0 })).status() }).toEqual({ action, status: 403 });
      expect({ action, status: (await context.request.post(path, { form: { _csrf: 'forged' }, maxRedirects: 0 })).status() }).toEqual({ action, status: 403 });
    }
    expect((await world.status(id)).token.state).toBe('active');
    expect(world.entra.lastDeviceCode()?.userCode).toBe(issuedBefore);
    // With the page's own token it goes through.
    await page.goto(`/console/mailboxes/${id}`);
    const token = await page.locator('[data-token-panel] input[name="_csrf"]').first().inputValue();
    expect((await context.request.post(`/console/mailboxes/${id}/token/delete`, { form: { _csrf: token }, maxRedirects: 0 })).status()).toBe(303);
    expect((await world.status(id)).token.state).toBe('not_obtained');
    // The polled panel needs the session too.
    const { context: stranger } = await browser.newPage();
    expect((await stranger.request.get(`/console/mailboxes/${id}/token/panel`, { maxRedirects: 0 })).status()).toBe(303);
    await stranger.close();
    await context.close();
  });

  it('says a password mailbox has no OAuth token, with no sign-in buttons', async () => {
    await world.api.http.post('/v1/providers').set(world.api.auth).send({ name: 'Password IMAP', type: 'imap', host: '127.0.0.1', port: dovecot.port, secure: false, domains: ['pw.test'] }).expect(201);
    const { id } = await world.createMailbox('ana@pw.test', { password: 'secret-pw' });
    const { context, page } = await browser.signedIn();
    await page.goto(`/console/mailboxes/${id}`);
    await expect(page.locator('main').innerText()).resolves.toContain('Password: set');
    await expect(page.locator('main').innerText()).resolves.toContain('OAuth tokens and sign-in with a code or the browser do not apply');
    expect(await page.getByRole('button', { name: 'Sign in with a code' }).count()).toBe(0);
    expect(await page.content()).not.toContain('secret-pw');
    await context.close();
  });
});
