import type { ProviderListing, ProviderRow } from '../services/provider-admin.service';
import { badge, count } from './format';
import { html, SafeHtml } from './html';
import { page } from './layout';

/**
 * The mail-service pages' own stylesheet, linked from their body (allowed for stylesheets) so the shared
 * layout and console.css stay as they are.
 */
export const SERVICES_STYLESHEET = html`<link rel="stylesheet" href="/console/assets/services.css">`;

const TYPE_LABELS: Record<string, string> = { imap: 'IMAP', 'microsoft-graph': 'Microsoft Graph' };

function address(provider: ProviderRow): SafeHtml {
  if (provider.type === 'microsoft-graph') return html`<code class="wrap">${provider.graphBaseUrl}</code>`;
  return html`<code class="wrap">${provider.host}:${provider.port}</code>
    <span class="muted">${provider.secure ? 'TLS' : 'no TLS'}</span>${provider.verifyCertificate ? '' : html` ${badge('certificate not verified', 'warn')}`}`;
}

function signIn(provider: ProviderRow): SafeHtml {
  if (provider.authMethod === 'basic') return html`Basic <span class="muted">(password)</span>`;
  const oauth = provider.oauth!;
  return html`OAuth 2.0${oauth.appOnly ? ' · app-only' : ''}<br><span class="muted">tenant ${oauth.tenant} · secret ${oauth.hasClientSecret ? 'set' : 'not set'}</span>`;
}

function flags(provider: ProviderRow): SafeHtml {
  return html`${provider.loadEmails ? badge('Load', 'ok') : badge('No load', 'idle')} ${provider.sendEmails ? badge('Send', 'ok') : badge('No send', 'idle')}`;
}

function emptyState(): SafeHtml {
  return html`<div class="empty-state"><h2>No mail services yet</h2>
    <p>A mail service says where a group of mailboxes lives (an IMAP server or Microsoft Graph), how they sign in, and which domains it serves.
    Add one first: mailboxes are then matched to it by the domain of their address.</p>
    <p><a class="button" href="/console/services/new">Add a mail service</a></p>
    <p>The CRM can do the same with <code>POST /v1/providers</code>.</p></div>`;
}

export function servicesPage(listing: ProviderListing, csrf: string, notice?: string): string {
  const { items, total } = listing;
  return page({
    title: 'Mail services',
    section: 'services',
    csrf,
    body: html`${SERVICES_STYLESHEET}
      <div class="page-head page-head-actions">
        <div><h1>Mail services</h1><p class="muted" data-count="services.total">${count(total)} ${total === 1 ? 'mail service' : 'mail services'}</p></div>
        ${total > 0 ? html`<a class="button" href="/console/services/new">Add a mail service</a>` : ''}
      </div>
      ${notice ? html`<div class="alert alert-ok" role="status">${notice}</div>` : ''}
      ${items.length < total ? html`<div class="alert alert-warn" role="status">Showing the first ${count(items.length)}; GET /v1/providers pages through all of them.</div>` : ''}
      ${items.length === 0
        ? emptyState()
        : html`<div class="table-wrap"><table class="services stack-on-phone">
            <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Address</th><th scope="col">Sign-in</th><th scope="col">Load / send</th><th scope="col">Domains</th><th scope="col" class="num">Mailboxes</th></tr></thead>
            <tbody>
              ${items.map(
                (provider) => html`<tr data-service="${provider.id}">
                  <td data-label="Name"><a href="/console/services/${provider.id}">${provider.name}</a></td>
                  <td data-label="Type">${TYPE_LABELS[provider.type] ?? provider.type}</td>
                  <td data-label="Address">${address(provider)}</td>
                  <td data-label="Sign-in">${signIn(provider)}</td>
                  <td data-label="Load / send">${flags(provider)}</td>
                  <td data-label="Domains">${provider.domains.length ? provider.domains.join(', ') : html`<span class="muted">none</span>`}</td>
                  <td data-label="Mailboxes" class="num"><a href="/console/mailboxes?provider=${provider.id}" data-count="service.${provider.id}.mailboxes">${count(provider.mailboxes)}</a></td>
                </tr>`,
              )}
            </tbody>
          </table></div>`}`,
  });
}
