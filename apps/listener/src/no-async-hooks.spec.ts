import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** `import … from '(node:)async_hooks'`, `require('async_hooks')`, `import('node:async_hooks')`. */
const ASYNC_HOOKS_IMPORT = /(?:\bfrom\s*|\brequire\s*\(\s*|\bimport\s*\(\s*)['"](?:node:)?async_hooks['"]/;

const root = join(__dirname, '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/**
 * In Node 20 the first AsyncLocalStorage scope (run, enterWith) — or any enabled async hook — turns on V8
 * promise hooks for the rest of the process, and every promise then pays for them: +20–37 % of the
 * listener's CPU over a cold start of 1,000 IMAP mailboxes. Context goes down the call chain explicitly
 * instead (e.g. TokenWriteFence), and nestjs-pino's per-request storage stays off (LoggingModule).
 */
describe('the code of the apps and libs', () => {
  it('imports nothing from async_hooks (no AsyncLocalStorage, no async hook)', () => {
    const offenders = [...sources(join(root, 'apps')), ...sources(join(root, 'libs'))]
      .filter((path) => ASYNC_HOOKS_IMPORT.test(readFileSync(path, 'utf8')))
      .map((path) => relative(root, path));
    expect(offenders).toEqual([]);
  });
});
