import type { ConnectionState, TokenState } from '@app/persistence';
import { html, SafeHtml } from './html';

/** What each connection state is called on screen, and its badge colour. */
export const CONNECTION_LABELS: Record<ConnectionState, { label: string; tone: 'ok' | 'warn' | 'bad' | 'idle' }> = {
  connected: { label: 'Connected', tone: 'ok' },
  connecting: { label: 'Connecting', tone: 'idle' },
  pending: { label: 'Pending', tone: 'idle' },
  backoff: { label: 'Retrying', tone: 'warn' },
  auth_error: { label: 'Auth error', tone: 'bad' },
  disabled: { label: 'Disabled', tone: 'idle' },
};

/** The product documents' words for token states. */
export const TOKEN_LABELS: Record<TokenState, { label: string; tone: 'ok' | 'warn' | 'bad' | 'idle' }> = {
  not_obtained: { label: 'Not obtained', tone: 'idle' },
  waiting_for_authorization: { label: 'Waiting for authorization', tone: 'warn' },
  active: { label: 'Active', tone: 'ok' },
  invalid: { label: 'Invalid', tone: 'bad' },
};

export function badge(text: string, tone: string): SafeHtml {
  return html`<span class="badge badge-${tone}">${text}</span>`;
}

export function connectionBadge(state: ConnectionState): SafeHtml {
  const { label, tone } = CONNECTION_LABELS[state];
  return badge(label, tone);
}

export function tokenBadge(state: TokenState): SafeHtml {
  const { label, tone } = TOKEN_LABELS[state];
  return badge(label, tone);
}

/**
 * A time as UTC text; console.js rewrites it as "3 min ago" / "in 2 h" in the reader's own terms and keeps
 * the exact time as the tooltip. Without JavaScript the UTC text stays.
 */
export function time(iso: string | Date | null | undefined, empty = '—'): SafeHtml {
  if (!iso) return html`<span class="muted">${empty}</span>`;
  const date = typeof iso === 'string' ? new Date(iso) : iso;
  const text = `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return html`<time datetime="${date.toISOString()}" data-relative title="${text}">${text}</time>`;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}
