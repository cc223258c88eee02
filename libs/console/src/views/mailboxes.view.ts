import { CONNECTION_STATES } from '@app/persistence';
import type { MailboxListFilters, MailboxListing } from '../services/mailbox-list.service';
import { CONNECTION_LABELS, connectionBadge, count } from './format';
import { html, SafeHtml } from './html';
import { page } from './layout';

function listUrl(filters: MailboxListFilters, offset: number): string {
  const params = new URLSearchParams();
  if (filters.search) params.set('search', filters.search);
  if (filters.state) params.set('state', filters.state);
  if (filters.providerId) params.set('provider', filters.providerId);
  if (offset > 0) params.set('offset', String(offset));
  const query = params.toString();
  return `/console/mailboxes${query ? `?${query}` : ''}`;
}

function filterForm(listing: MailboxListing): SafeHtml {
  const { filters, providers } = listing;
  return html`<form method="get" action="/console/mailboxes" class="filters" role="search">
    <div class="field grow">
      <label for="search">Search</label>
      <input id="search" name="search" type="search" value="${filters.search}" placeholder="Address or external id" maxlength="320">
    </div>
    <div class="field">
      <label for="state">State</label>
      <select id="state" name="state">
        <option value="">Any state</option>
        ${CONNECTION_STATES.map((state) => html`<option value="${state}"${filters.state === state ? html` selected` : ''}>${CONNECTION_LABELS[state].label}</option>`)}
      </select>
    </div>
    <div class="field">
      <label for="provider">Mail service</label>
      <select id="provider" name="provider">
        <option value="">Any mail service</option>
        ${providers.map((provider) => html`<option value="${provider.id}"${filters.providerId === provider.id ? html` selected` : ''}>${provider.name}</option>`)}
      </select>
    </div>
    <div class="field actions">
      <button type="submit" class="button">Apply</button>
      ${filters.search || filters.state || filters.providerId ? html`<a class="button button-quiet" href="/console/mailboxes">Clear</a>` : ''}
    </div>
  </form>`;
}

function emptyState(listing: MailboxListing): SafeHtml {
  const { filters } = listing;
  if (filters.search || filters.state || filters.providerId) {
    return html`<div class="empty-state"><h2>No mailbox matches</h2><p>Nothing matches these filters. Try part of the address instead of all of it, or <a href="/console/mailboxes">clear the filters</a>.</p></div>`;
  }
  return html`<div class="empty-state"><h2>No mailboxes yet</h2>
    <p>Mailboxes are added by the CRM through the API: <code>POST /v1/mailboxes</code> with the address (and a password for a password mail service). The mail service is found from the address's domain.</p></div>`;
}

function pager(listing: MailboxListing): SafeHtml {
  const { total, limit, offset } = listing.page;
  const first = total === 0 ? 0 : offset + 1;
  const last = Math.min(offset + limit, total);
  return html`<nav class="pager" aria-label="Pages">
    <span class="muted" data-count="list.total">${count(first)}–${count(last)} of ${count(total)}</span>
    <span>
      ${offset > 0 ? html`<a class="button button-quiet" rel="prev" href="${listUrl(listing.filters, Math.max(0, offset - limit))}">← Previous</a>` : ''}
      ${last < total ? html`<a class="button button-quiet" rel="next" href="${listUrl(listing.filters, offset + limit)}">Next →</a>` : ''}
    </span>
  </nav>`;
}

export function mailboxesPage(listing: MailboxListing, csrf: string): string {
  const { items, total } = listing.page;
  return page({
    title: 'Mailboxes',
    section: 'mailboxes',
    csrf,
    body: html`<div class="page-head"><h1>Mailboxes</h1><p class="muted">${count(total)} ${total === 1 ? 'mailbox' : 'mailboxes'}${listing.filters.state ? html` in state ${CONNECTION_LABELS[listing.filters.state].label}` : ''}</p></div>
      ${filterForm(listing)}
      ${listing.ignored.length ? html`<div class="alert alert-warn" role="status">Ignored: ${listing.ignored.join('; ')}.</div>` : ''}
      ${items.length === 0
        ? emptyState(listing)
        : html`<div class="table-wrap"><table class="mailboxes">
            <thead><tr><th scope="col">Address</th><th scope="col">State</th><th scope="col">Mail service</th><th scope="col">External id</th><th scope="col">Folders</th></tr></thead>
            <tbody>
              ${items.map(
                (item) => html`<tr>
                  <td><a href="/console/mailboxes/${item.id}">${item.email}</a></td>
                  <td>${connectionBadge(item.state)}</td>
                  <td>${item.providerName}</td>
                  <td>${item.externalId ?? html`<span class="muted">—</span>`}</td>
                  <td>${item.folders.join(', ')}</td>
                </tr>`,
              )}
            </tbody>
          </table></div>
          ${pager(listing)}`}`,
  });
}
