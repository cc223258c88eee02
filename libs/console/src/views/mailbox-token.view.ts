import type { MailboxResponse, MailboxStatusResponse } from '@app/mailboxes';
import { time, tokenBadge } from './format';
import { html, SafeHtml } from './html';
import { bare } from './layout';

/** What the token panel needs of a mailbox's page (MailboxView has all of it). */
export interface TokenPanelView {
  mailbox: Pick<MailboxResponse, 'id' | 'email' | 'hasPassword'>;
  status: Pick<MailboxStatusResponse, 'token'>;
  csrf: string;
}

type Token = NonNullable<MailboxStatusResponse['token']>;

/** Where the panel's routes live (the forms post there; the script polls the fragment). */
export function tokenPath(mailboxId: string, action: 'device-code' | 'browser-sign-in' | 'delete' | 'panel'): string {
  return `/console/mailboxes/${mailboxId}/token/${action}`;
}

/**
 * Changes whenever anything the panel shows does (apart from the countdown): the page's script swaps the
 * panel for a fresh one only when this differs, so a person reading or copying the code is not disturbed.
 */
export function tokenSignature(token: Token): string {
  return [token.state, token.expiresAt, token.lastRefreshAt, token.lastError?.at, token.pendingAuthorization?.userCode, token.pendingAuthorization?.expiresAt, token.account].join('|');
}

function secondsLeft(iso: string | undefined, now: number): number {
  const at = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(at) ? 0 : Math.max(0, Math.floor((at - now) / 1000));
}

/** "14:59": what the countdown shows before the script takes over (and if it never does). */
export function minutesSeconds(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function form(view: TokenPanelView, action: 'device-code' | 'browser-sign-in' | 'delete', label: string, options: { quiet?: boolean; confirm?: string; disabled?: string } = {}): SafeHtml {
  return html`<form method="post" action="${tokenPath(view.mailbox.id, action)}"${options.confirm ? html` data-confirm="${options.confirm}"` : ''}>
    <input type="hidden" name="_csrf" value="${view.csrf}">
    <button type="submit" class="button${options.quiet ? ' button-quiet' : ''}"${options.disabled ? html` disabled title="${options.disabled}"` : ''}>${label}</button>
  </form>`;
}

/** The device code, large and copyable, its address as a link and how long it lives. */
function deviceCodeBox(pending: NonNullable<Token['pendingAuthorization']>, now: number): SafeHtml {
  const left = secondsLeft(pending.expiresAt, now);
  // The address comes from the identity provider: a link only when it is a web address.
  const address = /^https?:\/\//i.test(pending.verificationUri ?? '')
    ? html`<a href="${pending.verificationUri}" target="_blank" rel="noopener noreferrer" data-verification-uri>${pending.verificationUri}</a>`
    : html`<code>${pending.verificationUri}</code>`;
  return html`<div class="token-code" data-device-code>
    <p>On any device, open ${address} and enter this code:</p>
    <p class="token-code-row">
      <code class="token-user-code" data-user-code>${pending.userCode}</code>
      <button type="button" class="button button-quiet" data-copy="${pending.userCode}">Copy code</button>
      <span class="muted" data-copy-result role="status"></span>
    </p>
    <p>The code expires in <strong role="timer" data-countdown data-seconds-left="${left}">${minutesSeconds(left)}</strong> <span class="muted">(${time(pending.expiresAt)})</span>.
      This page turns <strong>Active</strong> by itself once the sign-in is done.</p>
  </div>`;
}

function waitingText(token: Token, now: number): SafeHtml {
  const pending = token.pendingAuthorization;
  if (pending?.userCode && pending.verificationUri) return deviceCodeBox(pending, now);
  return html`<p class="alert alert-warn" role="status">Waiting for the sign-in in the browser. It must be finished before ${time(pending?.expiresAt)}; otherwise start it again.</p>`;
}

/** The OAuth token's card: its state, the sign-in ways and Delete. Sent alone to the page's script as it polls. */
export function tokenPanelSection(view: TokenPanelView, token: Token, now = Date.now()): SafeHtml {
  const waiting = token.state === 'waiting_for_authorization';
  const signedInAs = token.account && (token.state === 'active' || token.state === 'invalid') ? token.account : null;
  return html`<section class="card token-panel" id="token" tabindex="-1" aria-labelledby="token-heading" data-token-panel="${tokenPath(view.mailbox.id, 'panel')}"
      data-token-state="${token.state}" data-signature="${tokenSignature(token)}">
    <h2 id="token-heading">OAuth token</h2>
    <p class="lead">${tokenBadge(token.state)}${signedInAs ? html` <span data-signed-in-as>Signed in as <strong>${signedInAs}</strong></span>` : ''}</p>
    ${waiting ? waitingText(token, now) : ''}
    <dl class="pairs">
      <dt>Expires</dt><dd>${time(token.expiresAt)}</dd>
      <dt>Last refresh</dt><dd>${time(token.lastRefreshAt, 'never')}</dd>
      <dt>Last error</dt><dd data-token-error>${token.lastError ? html`<code>${token.lastError.code}</code> ${token.lastError.message} <span class="muted">(${time(token.lastError.at)})</span>` : html`<span class="muted">none</span>`}</dd>
    </dl>
    <div class="buttons">
      ${form(view, 'device-code', waiting && token.pendingAuthorization?.userCode ? 'New code' : 'Sign in with a code')}
      ${form(view, 'browser-sign-in', 'Sign in with the browser', { quiet: true })}
      ${form(view, 'delete', 'Delete token', {
        quiet: true,
        disabled: token.state === 'not_obtained' ? 'There is no token to delete' : undefined,
        confirm: `Delete the token of ${view.mailbox.email}? The mailbox stops syncing until someone signs in again.`,
      })}
    </div>
  </section>`;
}

/**
 * The token part of a mailbox's page. Password mailboxes say so; OAuth ones get the panel, its
 * stylesheet and the script that counts down, copies the code and polls while a sign-in is pending.
 */
export function tokenPanel(view: TokenPanelView, now = Date.now()): SafeHtml {
  const { token } = view.status;
  if (!token) {
    return html`<section class="card" aria-labelledby="auth-heading" data-token-panel-none>
      <h2 id="auth-heading">Sign-in</h2>
      <p>Password authentication. Password: <strong>${view.mailbox.hasPassword ? 'set' : 'not set'}</strong>.</p>
      <p class="muted">This mailbox's mail service signs in with a password: OAuth tokens and sign-in with a code or the browser do not apply.</p>
    </section>`;
  }
  return html`<link rel="stylesheet" href="/console/assets/mailbox-token.css">
    ${tokenPanelSection(view, token, now)}
    <p class="visually-hidden" role="status" data-token-announce></p>
    <script src="/console/assets/mailbox-token.js" defer></script>`;
}

/**
 * Between the console and the identity provider's consent page: a form may only post to us (CSP
 * form-action 'self', which browsers apply to a redirect after the post too), so the post answers with
 * this page, which goes on by itself (meta refresh) or by its link.
 */
export function browserSignInPage(consentUrl: string, mailbox: { id: string; email: string }): string {
  const host = new URL(consentUrl).host;
  return bare(
    'Continue to sign in',
    html`<meta http-equiv="refresh" content="0; url=${consentUrl}">
      <div class="signin">
        <h1>Continue to sign in</h1>
        <p>Sign in as <strong>${mailbox.email}</strong> at <strong>${host}</strong> and accept; you come back to the mailbox's page.</p>
        <p><a class="button" href="${consentUrl}" rel="noreferrer">Continue to ${host}</a></p>
        <p><a href="/console/mailboxes/${mailbox.id}">Cancel</a></p>
      </div>`,
  );
}
