import type { Section } from './views/layout';

/**
 * Where to go after signing in: only a console path of ours. Anything else (another site, `//host`,
 * `/console\\…`) is an open redirect an attacker could use, so it falls back to the overview.
 */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || value.length > 2000) return '/console';
  return /^\/console(?:[/?][^\\\s]*)?$/.test(value) && !value.startsWith('/console//') ? value : '/console';
}

/** The console section a path belongs to (the one its navigation entry marks), the overview when none. */
export function sectionOf(path: string): Section {
  const first = /^\/console\/([a-z]+)/.exec(path)?.[1];
  return first === 'mailboxes' || first === 'services' || first === 'cluster' || first === 'webhooks' || first === 'queues' ? first : 'overview';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A mailbox's console page, built from its id alone: where a sign-in the console started comes back to.
 * The id comes out of the sealed OAuth state, but anything not shaped like one still goes to the list.
 */
export function consoleMailboxPath(mailboxId: string): string {
  return UUID.test(mailboxId) ? `/console/mailboxes/${mailboxId.toLowerCase()}` : '/console/mailboxes';
}
