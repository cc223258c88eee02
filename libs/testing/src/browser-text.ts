import { errors, Locator } from 'playwright-core';

/**
 * Waits until `locator` reads `expected` (a string: exactly, spaces trimmed; a RegExp: matching), then
 * returns. For text a page's script writes after an event (a copy result, a polled panel, a countdown):
 * reading innerText once races the script. Waits on Playwright's own selector engine (it re-checks as the
 * DOM changes), not on a sleep; on timeout it fails with what the element read instead.
 */
export async function expectText(locator: Locator, expected: string | RegExp, timeout = 20_000): Promise<void> {
  const pattern = typeof expected === 'string' ? new RegExp(`^\\s*${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`) : expected;
  try {
    await locator.filter({ hasText: pattern }).first().waitFor({ state: 'attached', timeout });
  } catch (error) {
    if (!(error instanceof errors.TimeoutError)) throw error;
    const actual = await locator
      .first()
      .innerText({ timeout: 1_000 })
      .catch(() => '(no such element)');
    throw new Error(`${locator.toString()} did not read ${String(expected)} within ${timeout} ms; it reads ${JSON.stringify(actual)}`);
  }
}
