import { time, tokenBadge } from './format';
import { html, SafeHtml } from './html';
import type { MailboxView } from './mailbox.view';

/*
 * ── Token panel ──────────────────────────────────────────────────────────────────────────────────────
 * The mailbox page's sign-in card, on its own so the OAuth sign-in flows (Sign in with a code, Sign in with
 * the browser, Delete token) can replace it without touching the rest of the page. For now it only shows
 * what GET /v1/mailboxes/:id/status says. It is one of the page's live sections (data-live="token"): the
 * page's script swaps it for a freshly rendered one whenever its markup changes.
 */
export function tokenPanel(view: MailboxView): SafeHtml {
  const { token } = view.status;
  if (!token) {
    return html`<section class="card" aria-labelledby="auth-heading" data-live="token">
      <h2 id="auth-heading">Sign-in</h2>
      <p>Password authentication. Password: <strong>${view.mailbox.hasPassword ? 'set' : 'not set'}</strong>.</p>
    </section>`;
  }
  return html`<section class="card" aria-labelledby="auth-heading" data-live="token">
    <h2 id="auth-heading">OAuth token</h2>
    <p class="lead" data-token-state="${token.state}">${tokenBadge(token.state)}</p>
    <dl class="pairs">
      <dt>Expires</dt><dd>${time(token.expiresAt)}</dd>
      <dt>Last refresh</dt><dd>${time(token.lastRefreshAt, 'never')}</dd>
      <dt>Last error</dt><dd>${token.lastError ? html`<code>${token.lastError.code}</code> ${token.lastError.message}` : html`<span class="muted">none</span>`}</dd>
    </dl>
    <p class="muted">Sign-in with a code or with the browser is not in the console yet: use <code>POST /v1/mailboxes/${view.mailbox.id}/oauth/device-code</code>.</p>
  </section>`;
}
