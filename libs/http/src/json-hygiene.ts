/**
 * Checks every parsed JSON body before validation sees it, so that problems no DTO can describe are a
 * 400 naming where they are, instead of a 500 further down:
 * - nesting deeper than any of our bodies (class-transformer recurses and overflowed the stack at 3,000);
 * - NUL characters (Postgres refuses them in text: error 22021) and lone UTF-16 surrogates (not text at
 *   all; JSON lets `"\ud800"` through), in values and in keys;
 * - the keys `__proto__`, `constructor` and `prototype`, which class-transformer skips silently: an
 *   unknown field is refused everywhere else, so these are too.
 * The walk is iterative: a hostile body must not be able to overflow the checker itself.
 */

/** Our deepest body is a few levels (provider → oauth → scopes[i]); this leaves room for growth. */
export const MAX_JSON_DEPTH = 32;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** What is wrong with a string, or undefined; shared by bodies, keys and query parameters. */
export function stringProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain NUL characters (\\u0000)';
  if (LONE_SURROGATE.test(text)) return 'must be valid Unicode text (it holds a lone UTF-16 surrogate)';
  return undefined;
}

/** `parent.key`, `parent[0]`, or `parent["odd key"]`: how a 400 names a value inside a body. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  const safeKey = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
  return parent ? `${parent}.${safeKey}` : safeKey;
}

/** The first problem found, as `<path>: <problem>` (path `body` for the whole body), or undefined. */
export function jsonBodyProblem(body: unknown): string | undefined {
  const pending: Array<{ value: unknown; path: string; depth: number }> = [{ value: body, path: '', depth: 0 }];
  while (pending.length > 0) {
    const { value, path, depth } = pending.pop()!;
    if (typeof value === 'string') {
      const problem = stringProblem(value);
      if (problem) return `${path || 'body'}: ${problem}`;
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return `${path || 'body'}: nested deeper than ${MAX_JSON_DEPTH} levels`;
    if (Array.isArray(value)) {
      value.forEach((item, index) => pending.push({ value: item, path: childPath(path, index), depth: depth + 1 }));
      continue;
    }
    for (const key of Object.keys(value)) {
      const keyProblem = stringProblem(key);
      if (keyProblem) return `${path || 'body'}: a field name ${keyProblem}`;
      if (FORBIDDEN_KEYS.has(key)) return `${childPath(path, key)}: unknown field`;
      pending.push({ value: (value as Record<string, unknown>)[key], path: childPath(path, key), depth: depth + 1 });
    }
  }
  return undefined;
}
