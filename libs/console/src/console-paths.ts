/**
 * Where to go after signing in: only a console path of ours. Anything else (another site, `//host`,
 * `/console\\…`) is an open redirect an attacker could use, so it falls back to the overview.
 */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || value.length > 2000) return '/console';
  return /^\/console(?:[/?][^\\\s]*)?$/.test(value) && !value.startsWith('/console//') ? value : '/console';
}
