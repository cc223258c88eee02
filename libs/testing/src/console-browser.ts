import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, BrowserContext, BrowserContextOptions, chromium, Locator, Page, Response } from 'playwright-core';
import { TEST_API_KEY } from './test-config';

/** Kept after the run (git-ignored): what each console test saw. docs/console/ has a few of them, committed. */
const SHOTS = join(__dirname, '..', '..', '..', 'test-output', 'console');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface ConsolePage {
  context: BrowserContext;
  page: Page;
}

/**
 * Debian's Chromium driven by playwright-core against a running API's /console, for the console's tests.
 * Collects what the browser itself complains about (console errors, CSP violations among them, and
 * uncaught exceptions) so each test can assert there was none.
 */
export class ConsoleBrowser {
  /** Browser-side problems seen on any page since the last takeProblems(). */
  readonly problems: string[] = [];
  private browser?: Browser;

  /** `context`: more options for every browser context (e.g. trusting a fake identity server's certificate, clipboard permissions). */
  constructor(
    private readonly base: () => string,
    private readonly options: { context?: BrowserContextOptions } = {},
  ) {}

  async launch(): Promise<void> {
    mkdirSync(SHOTS, { recursive: true });
    this.browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  }

  async close(): Promise<void> {
    await this.browser?.close();
  }

  async newPage(viewport = { width: 1280, height: 900 }): Promise<ConsolePage> {
    const context = await this.browser!.newContext({ ...this.options.context, viewport, baseURL: this.base() });
    const page = await context.newPage();
    page.on('console', (message) => {
      // A failed resource names the page it was on; where the resource itself was is in its location.
      const source = message.location().url;
      if (message.type() === 'error') this.problems.push(`console: ${message.text()} at ${page.url()}${source && source !== page.url() ? ` (from ${source})` : ''}`);
    });
    page.on('pageerror', (error) => this.problems.push(`page error: ${error.message} at ${page.url()}`));
    return { context, page };
  }

  /** Signs in through the form, with the keyboard only: the key field has focus, Enter submits. */
  async signedIn(viewport?: { width: number; height: number }): Promise<ConsolePage> {
    const session = await this.newPage(viewport);
    await session.page.goto('/console/sign-in');
    // Chromium applies autofocus at its next rendering update, which can come after "load" on a busy
    // machine: typing before it loses the first keys (a 401 seen in CI at load 10).
    await this.waitForKeyFieldFocus(session.page);
    await session.page.keyboard.type(TEST_API_KEY);
    await Promise.all([session.page.waitForURL(`${this.base()}/console`), session.page.keyboard.press('Enter')]);
    return session;
  }

  waitForKeyFieldFocus(page: Page): Promise<unknown> {
    return page.waitForFunction(() => (globalThis as any).document.activeElement?.getAttribute('name') === 'apiKey', undefined, { timeout: 10_000 });
  }

  /** Leaves out problems the test expected (a 401 of a refused form post shows as a failed resource). */
  forgive(pattern: RegExp): void {
    this.problems.splice(0, this.problems.length, ...this.problems.filter((p) => !pattern.test(p)));
  }

  takeProblems(): string[] {
    return this.problems.splice(0);
  }

  /**
   * Clicks a form's submit button and waits until the page the POST answered with (a 303's target, or the
   * form again with its 400/409) has replaced the old one and loaded. The POST's response alone arrives
   * before that: reading the page then can read the old document, which has the same form.
   */
  async submit(page: Page, button: Locator): Promise<Response> {
    const navigated = page.waitForEvent('framenavigated', { predicate: (frame) => frame === page.mainFrame() });
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST' && r.request().isNavigationRequest()), button.click()]);
    await navigated;
    await page.waitForLoadState();
    return response;
  }

  /**
   * What scrolls sideways at the page's width: the page itself (px beyond the viewport) and the number of
   * tables scrolling inside their card (.table-wrap). Both 0 is what "reads well at phone width" means.
   */
  sidewaysScroll(page: Page): Promise<{ page: number; tables: number }> {
    return page.evaluate(() => {
      const document = (globalThis as any).document;
      const root = document.documentElement;
      const wraps: any[] = Array.from(document.querySelectorAll('.table-wrap'));
      return { page: root.scrollWidth - root.clientWidth, tables: wraps.filter((wrap) => wrap.scrollWidth > wrap.clientWidth).length };
    });
  }

  shot(page: Page, name: string): Promise<Buffer> {
    return page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  }
}
