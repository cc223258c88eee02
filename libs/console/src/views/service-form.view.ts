import type { ProviderRow } from '../services/provider-admin.service';
import type { FormProblems, ProviderFormField, ProviderFormValues } from '../services/provider-form';
import { count } from './format';
import { checkbox, FieldState, fieldId, radios, select, textArea, textInput } from './form-fields';
import { html, SafeHtml } from './html';
import { page } from './layout';
import { SERVICES_STYLESHEET } from './services.view';

export interface ServiceFormView {
  csrf: string;
  values: ProviderFormValues;
  /** The service being edited; absent on "Add a mail service". */
  provider?: ProviderRow;
  problems?: FormProblems;
  /** What the last action did, said at the top. */
  notice?: string;
  /** Why the delete was refused (the API's message). */
  deleteRefused?: string;
}

/** What the error summary calls each field (the API's own path is in the message's place). */
const LABELS: Record<ProviderFormField, string> = {
  name: 'Name',
  type: 'Type',
  host: 'Service address',
  port: 'Port',
  secure: 'TLS',
  verifyCertificate: 'Verify server certificate',
  loadEmails: 'Load emails',
  sendEmails: 'Send emails',
  loginFormat: 'Login format',
  authMethod: 'Authentication',
  'oauth.clientId': 'Client (application) id',
  'oauth.clientSecret': 'Client secret',
  'oauth.tenant': 'Tenant',
  'oauth.authorityHost': 'Authority host',
  'oauth.scopes': 'Scopes',
  'oauth.issuer': 'Identity platform',
  'oauth.appOnly': 'App-only',
  graphBaseUrl: 'Graph base URL',
  'smtp.host': 'SMTP server',
  'smtp.port': 'SMTP port',
  'smtp.security': 'SMTP security',
  appendToSent: 'Copy to Sent',
  domains: 'Domains',
};

function fieldsOf(view: ServiceFormView) {
  const state = (name: ProviderFormField, hint?: SafeHtml | string): FieldState => ({ name, label: LABELS[name], hint, problems: view.problems?.byField[name] });
  const text = (name: Exclude<ProviderFormField, 'secure' | 'verifyCertificate' | 'loadEmails' | 'sendEmails' | 'oauth.appOnly'>) => view.values[name];
  const ticked = (name: 'secure' | 'verifyCertificate' | 'loadEmails' | 'sendEmails' | 'oauth.appOnly') => view.values[name];
  return { state, text, ticked };
}

/** "Automatic" is offered only while nothing is chosen: on an edit it would read as "reset", which the API has no word for. */
function withAutomatic(value: string, automatic: string, options: { value: string; label: string }[]): { value: string; label: string }[] {
  return value === '' ? [{ value: '', label: automatic }, ...options] : options;
}

function serviceSection(view: ServiceFormView): SafeHtml {
  const { state, text } = fieldsOf(view);
  return html`<fieldset class="card form-card">
    <legend>Mail service</legend>
    ${textInput({ ...state('name', 'What people see in the console and in the mailbox list.'), value: text('name'), placeholder: 'Contoso Exchange Online' })}
    ${radios({
      ...state('type'),
      value: text('type'),
      options: [
        { value: 'imap', label: 'IMAP', hint: 'any IMAP server, Exchange Online IMAP, Gmail' },
        { value: 'microsoft-graph', label: 'Microsoft Graph', hint: 'Exchange Online / Microsoft 365 through change notifications' },
      ],
    })}
    ${textArea({
      ...state('domains', 'One a line. A mailbox added as ana@contoso.com is matched to the service that lists contoso.com (or a parent domain), so nobody has to pick a service.'),
      value: text('domains'),
      rows: 3,
      placeholder: 'contoso.com',
    })}
    ${checkbox({ ...state('loadEmails', 'Listen for new mail and publish it as events.'), checked: view.values.loadEmails })}
    ${checkbox({ ...state('sendEmails', 'Let the CRM send mail from these mailboxes. At least one of load and send must be on.'), checked: view.values.sendEmails })}
  </fieldset>`;
}

function serverSection(view: ServiceFormView): SafeHtml {
  const { state, text, ticked } = fieldsOf(view);
  return html`<fieldset class="card form-card imap-only">
    <legend>IMAP server</legend>
    ${textInput({ ...state('host', 'A DNS name or IP address, without scheme or port.'), value: text('host'), placeholder: 'outlook.office365.com' })}
    ${textInput({ ...state('port', 'Blank: 993 with TLS, 143 without.'), value: text('port'), inputmode: 'numeric', className: 'narrow' })}
    ${checkbox({ ...state('secure', 'TLS on connect. Without it, credentials travel in clear text unless the server offers STARTTLS.'), checked: ticked('secure') })}
    ${checkbox({
      ...state('verifyCertificate', 'Keep this on. Turning it off (test servers with a self-signed certificate) is logged as a warning.'),
      checked: ticked('verifyCertificate'),
    })}
  </fieldset>`;
}

function signInSection(view: ServiceFormView): SafeHtml {
  const { state, text } = fieldsOf(view);
  return html`<fieldset class="card form-card">
    <legend>Sign-in</legend>
    ${select({
      ...state('loginFormat', 'The login each mailbox signs in with. Changing it updates the logins of the mailboxes that use this service.'),
      value: text('loginFormat'),
      options: [
        { value: 'email', label: 'Full address (ana@contoso.com)' },
        { value: 'local-part', label: 'Part before the @ (ana)' },
        { value: 'manual', label: 'Each mailbox gives its own login' },
      ],
    })}
    ${radios({
      ...state('authMethod'),
      value: text('authMethod'),
      options: [
        { value: 'basic', label: 'Basic', hint: 'login and password' },
        { value: 'oauth2', label: 'OAuth 2.0', hint: 'Microsoft Entra ID, Google, or another identity server' },
      ],
    })}
  </fieldset>`;
}

function secretHint(view: ServiceFormView): SafeHtml {
  const stored = view.provider?.oauth?.hasClientSecret;
  if (!view.provider) return html`Optional for sign-in with a code (public client); needed for app-only and for sign-in with the browser by a confidential client. Never shown again.`;
  return html`<span data-secret-state="${stored ? 'set' : 'not set'}">Currently <strong>${stored ? 'set' : 'not set'}</strong>.</span>
    ${stored ? 'Leave blank to keep it; type a new one to replace it.' : 'Type one to store it.'} It is never shown. Changing the authority host or Graph base URL drops it unless you type it again.`;
}

function oauthSection(view: ServiceFormView): SafeHtml {
  const { state, text, ticked } = fieldsOf(view);
  return html`<fieldset class="card form-card oauth-only">
    <legend>OAuth 2.0</legend>
    ${textInput({ ...state('oauth.clientId', 'The application (client) id of the app registration.'), value: text('oauth.clientId'), placeholder: '00000000-1111-2222-3333-444444444444' })}
    ${textInput({ ...state('oauth.clientSecret', secretHint(view)), value: '', type: 'password', autocomplete: 'new-password' })}
    ${textInput({ ...state('oauth.tenant', 'common, organizations, consumers, a tenant id or a tenant domain. Blank: common.'), value: text('oauth.tenant'), placeholder: 'common' })}
    ${textInput({
      ...state('oauth.authorityHost', 'For sovereign clouds and test servers. Blank: https://login.microsoftonline.com. Changing it signs every mailbox of this service out.'),
      value: text('oauth.authorityHost'),
      type: 'url',
      placeholder: 'https://login.microsoftonline.com',
    })}
    ${textArea({ ...state('oauth.scopes', 'Separated by spaces or lines. Blank: the usual ones for the type and platform.'), value: text('oauth.scopes'), rows: 2 })}
    ${select({
      ...state('oauth.issuer'),
      value: text('oauth.issuer'),
      options: withAutomatic(text('oauth.issuer'), 'Automatic (from the authority host)', [
        { value: 'microsoft', label: 'Microsoft' },
        { value: 'google', label: 'Google' },
      ]),
    })}
    ${checkbox({
      ...state('oauth.appOnly', 'Client credentials for the whole tenant, no per-mailbox sign-in: Microsoft Graph services with a client secret and a specific tenant.'),
      checked: ticked('oauth.appOnly'),
    })}
  </fieldset>`;
}

function graphSection(view: ServiceFormView): SafeHtml {
  const { state, text } = fieldsOf(view);
  return html`<fieldset class="card form-card graph-only">
    <legend>Microsoft Graph</legend>
    ${textInput({
      ...state('graphBaseUrl', 'Blank: https://graph.microsoft.com/v1.0. Changing it signs every mailbox of this service out.'),
      value: text('graphBaseUrl'),
      type: 'url',
      placeholder: 'https://graph.microsoft.com/v1.0',
    })}
  </fieldset>`;
}

function smtpSection(view: ServiceFormView): SafeHtml {
  const { state, text } = fieldsOf(view);
  return html`<fieldset class="card form-card imap-only">
    <legend>Sending (SMTP)</legend>
    <p class="hint">Used when sending is on. Blank fields are derived from the IMAP server: outlook.office365.com sends through smtp.office365.com:587, imap.gmail.com through smtp.gmail.com:465, any other server through itself on 587.</p>
    ${textInput({ ...state('smtp.host'), value: text('smtp.host'), placeholder: 'smtp.office365.com' })}
    ${textInput({ ...state('smtp.port', 'Blank: 465 with TLS, else 587.'), value: text('smtp.port'), inputmode: 'numeric', className: 'narrow' })}
    ${select({
      ...state('smtp.security', 'None (plain text) is for development and tests only, and is logged as a warning.'),
      value: text('smtp.security'),
      options: withAutomatic(text('smtp.security'), 'Automatic: TLS on port 465, else STARTTLS', [
        { value: 'tls', label: 'TLS on connect' },
        { value: 'starttls', label: 'STARTTLS (required)' },
        { value: 'none', label: 'None: plain text' },
      ]),
    })}
    ${select({
      ...state('appendToSent', 'Exchange Online and Gmail keep a copy of what they send; most other servers do not.'),
      value: text('appendToSent'),
      options: withAutomatic(text('appendToSent'), 'Automatic: yes, except for Exchange Online and Gmail', [
        { value: 'true', label: 'Yes: append each sent message to the Sent folder' },
        { value: 'false', label: 'No' },
      ]),
    })}
  </fieldset>`;
}

function errorSummary(view: ServiceFormView): SafeHtml {
  const problems = view.problems;
  if (!problems) return html``;
  const fields = Object.entries(problems.byField) as [ProviderFormField, string[]][];
  return html`<div class="alert alert-bad error-summary" role="alert" id="form-problems">
    <h2>${view.provider ? 'The changes were not saved' : 'The mail service was not created'}</h2>
    <ul>
      ${problems.general.map((message) => html`<li>${message}</li>`)}
      ${fields.map(([name, messages]) => html`<li><a href="#${fieldId(name)}">${LABELS[name]}</a>: ${messages.join(' ')}</li>`)}
    </ul>
  </div>`;
}

function deleteCard(view: ServiceFormView): SafeHtml {
  const provider = view.provider!;
  const used = provider.mailboxes;
  return html`<section class="card danger-zone" aria-labelledby="delete-heading">
    <h2 id="delete-heading">Delete this mail service</h2>
    ${view.deleteRefused ? html`<div class="alert alert-bad" role="alert" id="delete-refused">${view.deleteRefused}</div>` : ''}
    <p>${used === 0
      ? 'No mailbox uses it, so it can be deleted.'
      : html`<a href="/console/mailboxes?provider=${provider.id}">${count(used)} ${used === 1 ? 'mailbox uses' : 'mailboxes use'} it</a>: delete them or move them to another service first.`}</p>
    <form method="post" action="/console/services/${provider.id}/delete" data-confirm="Delete the mail service ${provider.name}? This cannot be undone.">
      <input type="hidden" name="_csrf" value="${view.csrf}">
      <button type="submit" class="button button-danger">Delete mail service</button>
    </form>
  </section>`;
}

export function serviceFormPage(view: ServiceFormView): string {
  const provider = view.provider;
  const title = provider ? provider.name : 'Add a mail service';
  return page({
    title,
    section: 'services',
    csrf: view.csrf,
    body: html`${SERVICES_STYLESHEET}
      <nav class="crumbs" aria-label="Breadcrumb"><a href="/console/services">Mail services</a> / <span aria-current="page">${provider ? provider.name : 'New'}</span></nav>
      <div class="page-head"><h1>${title}</h1>
        ${provider
          ? html`<p class="muted">Used by <a href="/console/mailboxes?provider=${provider.id}" data-count="service.mailboxes">${count(provider.mailboxes)} ${provider.mailboxes === 1 ? 'mailbox' : 'mailboxes'}</a> · id <code>${provider.id}</code></p>`
          : html`<p class="muted">Where a group of mailboxes lives and how they sign in. Blank fields take the defaults the hints name.</p>`}
      </div>
      ${view.notice ? html`<div class="alert alert-ok" role="status">${view.notice}</div>` : ''}
      ${errorSummary(view)}
      <form method="post" action="${provider ? `/console/services/${provider.id}` : '/console/services'}" class="provider-form" novalidate>
        <input type="hidden" name="_csrf" value="${view.csrf}">
        <div class="form-grid">
          ${serviceSection(view)} ${serverSection(view)} ${smtpSection(view)} ${signInSection(view)} ${oauthSection(view)} ${graphSection(view)}
        </div>
        <div class="buttons form-actions">
          <button type="submit" class="button">${provider ? 'Save changes' : 'Create mail service'}</button>
          <a class="button button-quiet" href="/console/services">Cancel</a>
        </div>
      </form>
      ${provider ? deleteCard(view) : ''}`,
  });
}
