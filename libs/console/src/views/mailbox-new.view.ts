import type { ProviderResponse } from '@app/providers';
import type { FieldErrors } from '../services/field-errors';
import type { MailboxForm, ResolvedService } from '../services/mailbox-create.service';
import { html, HtmlValue, SafeHtml } from './html';
import { page } from './layout';

export interface NewMailboxView {
  form: MailboxForm;
  providers: ProviderResponse[];
  csrf: string;
  errors?: FieldErrors;
  /** The mail service the typed address resolves to (shown again after a refused submit). */
  resolved?: ResolvedService;
}

const AUTH_WORDS = { basic: 'password', oauth2: 'OAuth 2.0' } as const;

/** The line under the address: which mail service the domain resolves to, or the API's reason why none. */
export function resolvedText(resolved: ResolvedService | undefined): HtmlValue {
  if (!resolved) return 'The mail service is found from the domain of the address.';
  if (!resolved.found) return html`<span class="text-bad">${resolved.message}</span>`;
  const { name, type, authMethod } = resolved.provider;
  return html`Mail service: <strong data-resolved-provider>${name}</strong> (${type}, ${AUTH_WORDS[authMethod]})${authMethod === 'oauth2' ? ' — leave the password empty and sign in on the mailbox\u2019s page once it is created.' : '.'}`;
}

/** One labelled input with its hint and, when the API refused it, the API's message right under it. */
function field(view: NewMailboxView, options: { name: keyof MailboxForm; apiName?: string; label: string; hint?: HtmlValue; hintId?: string; control: (describedBy: string, invalid: boolean) => SafeHtml }): SafeHtml {
  const error = view.errors?.byField[options.apiName ?? options.name]?.join('; ');
  const hintId = options.hintId ?? `${options.name}-hint`;
  const describedBy = [options.hint !== undefined ? hintId : '', error ? `${options.name}-error` : ''].filter(Boolean).join(' ');
  return html`<div class="form-field${error ? ' has-error' : ''}">
    <label for="${options.name}">${options.label}</label>
    ${options.control(describedBy, Boolean(error))}
    ${options.hint !== undefined ? html`<p class="hint" id="${hintId}">${options.hint}</p>` : ''}
    ${error ? html`<p class="field-error" id="${options.name}-error">${error}</p>` : ''}
  </div>`;
}

function attrs(describedBy: string, invalid: boolean): SafeHtml {
  return html`${describedBy ? html` aria-describedby="${describedBy}"` : ''}${invalid ? html` aria-invalid="true"` : ''}`;
}

export function newMailboxPage(view: NewMailboxView): string {
  const { form } = view;
  const general = view.errors?.general ?? [];
  const anyError = Boolean(view.errors && (general.length || Object.keys(view.errors.byField).length));
  return page({
    title: 'Add mailbox',
    section: 'mailboxes',
    csrf: view.csrf,
    body: html`<link rel="stylesheet" href="/console/assets/mailboxes.css">
      <script src="/console/assets/mailbox-new.js" defer></script>
      <nav class="crumbs" aria-label="Breadcrumb"><a href="/console/mailboxes">Mailboxes</a> / <span aria-current="page">Add mailbox</span></nav>
      <div class="page-head"><h1>Add mailbox</h1>
        <p class="muted">The same as <code>POST /v1/mailboxes</code>: the same checks and messages. A listener picks the mailbox up within seconds.</p></div>
      ${anyError ? html`<div class="alert alert-bad" role="alert" id="form-errors">The mailbox was not created: ${general.length ? general.join('; ') : 'see the fields marked below'}.</div>` : ''}
      <form method="post" action="/console/mailboxes/new" class="card form-card" novalidate>
        <input type="hidden" name="_csrf" value="${view.csrf}">
        ${field(view, {
          name: 'email',
          label: 'Address',
          hint: resolvedText(view.resolved),
          hintId: 'provider-found',
          control: (describedBy, invalid) =>
            html`<input id="email" name="email" type="email" value="${form.email}" required maxlength="320" autocomplete="off" spellcheck="false" data-resolve-url="/console/mailboxes/resolve"${attrs(describedBy, invalid)}>`,
        })}
        ${field(view, {
          name: 'providerId',
          label: 'Mail service',
          hint: 'Leave on “From the address’s domain” unless the domain is served by no mail service or by another one than you want.',
          control: (describedBy, invalid) => html`<select id="providerId" name="providerId"${attrs(describedBy, invalid)}>
            <option value="">From the address’s domain</option>
            ${view.providers.map((provider) => html`<option value="${provider.id}"${form.providerId === provider.id ? html` selected` : ''}>${provider.name}</option>`)}
          </select>`,
        })}
        ${field(view, {
          name: 'password',
          label: 'Password',
          hint: html`For a password mail service. For OAuth 2.0, leave it empty and sign in on the mailbox’s page once it is created. Stored encrypted, never shown again${anyError && form.password ? html`; <strong>type it again</strong>` : ''}.`,
          control: (describedBy, invalid) => html`<input id="password" name="password" type="password" autocomplete="new-password" maxlength="1024"${attrs(describedBy, invalid)}>`,
        })}
        ${field(view, {
          name: 'login',
          label: 'Login (optional)',
          hint: 'Only for mail services whose login format is manual; otherwise it is made from the address.',
          control: (describedBy, invalid) => html`<input id="login" name="login" type="text" value="${form.login}" autocomplete="off" spellcheck="false"${attrs(describedBy, invalid)}>`,
        })}
        ${field(view, {
          name: 'folders',
          label: 'Folders',
          hint: 'One folder a line, as the mail server names them.',
          control: (describedBy, invalid) => html`<textarea id="folders" name="folders" rows="3" spellcheck="false"${attrs(describedBy, invalid)}>${form.folders}</textarea>`,
        })}
        ${field(view, {
          name: 'externalId',
          label: 'External id (optional)',
          hint: 'The CRM’s own id for this mailbox; events carry it.',
          control: (describedBy, invalid) => html`<input id="externalId" name="externalId" type="text" value="${form.externalId}" autocomplete="off"${attrs(describedBy, invalid)}>`,
        })}
        <div class="form-field checkbox">
          <input id="enabled" name="enabled" type="checkbox"${form.enabled ? html` checked` : ''}>
          <label for="enabled">Start syncing at once</label>
        </div>
        <div class="buttons">
          <button type="submit" class="button">Add mailbox</button>
          <a class="button button-quiet" href="/console/mailboxes">Cancel</a>
        </div>
      </form>`,
  });
}
