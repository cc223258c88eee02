import { html } from './html';
import { bare } from './layout';

export interface SignInView {
  csrf: string;
  /** Where to go once signed in (a console path). */
  returnTo: string;
  error?: string;
}

export function signInPage(view: SignInView): string {
  return bare(
    'Sign in',
    html`<section class="signin card">
      <h1><span class="brand-mark" aria-hidden="true">✉</span> Mail Listener console</h1>
      <p class="muted">Sign in with one of the service's API keys (<code>API_KEYS</code>; after a local <code>npm start</code> without it, the key is in <code>data/dev-api-key</code>).</p>
      ${view.error ? html`<div class="alert alert-bad" role="alert" id="signin-error">${view.error}</div>` : ''}
      <form method="post" action="/console/sign-in" class="stack">
        <input type="hidden" name="_csrf" value="${view.csrf}">
        <input type="hidden" name="returnTo" value="${view.returnTo}">
        <label for="apiKey">API key</label>
        <input id="apiKey" name="apiKey" type="password" autocomplete="current-password" required autofocus
          ${view.error ? html`aria-invalid="true" aria-describedby="signin-error"` : ''}>
        <button type="submit" class="button">Sign in</button>
      </form>
    </section>`,
  );
}
