import { CONNECTION_STATES } from '@app/persistence';
import type { MailboxListFilters, MailboxListing } from '../services/mailbox-list.service';
import { CONNECTION_LABELS, connectionBadge, count } from './format';
import { html, SafeHtml } from './html';
import { page } from './layout';

function listUrl(filters: MailboxListFilters, page: number): string {
  const params = new URLSearchParams();
  if (filters.search) params.set('search', filters.search);
  if (filters.state) params.set('state', filters.state);
  if (filters.providerId) params.set('provider', filters.providerId);
  if (page > 1) params.set('page', String(page));
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
  if (listing.page.total > 0) {
    const pages = pageCount(listing.page.total, listing.page.limit);
    return html`<div class="empty-state"><h2>There is no page ${count(filters.page)}</h2><p>The list has ${count(pages)} ${pages === 1 ? 'page' : 'pages'}. <a href="${listUrl(filters, pages)}">Go to the last page</a>.</p></div>`;
  }
  if (filters.search || filters.state || filters.providerId) {
    return html`<div class="empty-state"><h2>No mailbox matches</h2><p>Nothing matches these filters. Try part of the address instead of all of it, or <a href="/console/mailboxes">clear the filters</a>.</p></div>`;
  }
  return html`<div class="empty-state"><h2>No mailboxes yet</h2>
    <p>Mailboxes are added by the CRM through the API (<code>POST /v1/mailboxes</code>) or here with <a href="/console/mailboxes/new">Add mailbox</a>. The mail service is found from the address's domain.</p></div>`;
}

/** Page numbers around the current one, with the first and last always reachable: 1 … 4 5 [6] 7 8 … 200. */
export function pageWindow(current: number, pages: number, spread = 2): (number | 'gap')[] {
  const shown = new Set([1, pages]);
  for (let n = current - spread; n <= current + spread; n++) if (n >= 1 && n <= pages) shown.add(n);
  const sorted = [...shown].sort((a, b) => a - b);
  return sorted.flatMap((n, index) => (index > 0 && n - sorted[index - 1] > 1 ? ['gap' as const, n] : [n]));
}

export function pageCount(total: number, limit: number): number {
  return Math.max(1, Math.ceil(total / limit));
}

function pageLink(listing: MailboxListing, page: number, label: string, rel: string, enabled: boolean): SafeHtml {
  return enabled
    ? html`<a class="button button-quiet" rel="${rel}" href="${listUrl(listing.filters, page)}">${label}</a>`
    : html`<span class="button button-quiet" aria-disabled="true">${label}</span>`;
}

function pager(listing: MailboxListing): SafeHtml {
  const { total, limit, offset } = listing.page;
  const current = listing.filters.page;
  const pages = pageCount(total, limit);
  const first = offset + 1;
  const last = Math.min(offset + limit, total);
  return html`<nav class="pager" aria-label="Pages">
    <p class="muted">Showing ${count(first)}–${count(last)} of ${count(total)} · page <strong data-page>${count(current)}</strong> of <strong data-pages>${count(pages)}</strong></p>
    ${pages > 1
      ? html`<ul class="pages">
          <li>${pageLink(listing, 1, '« First', 'first', current > 1)}</li>
          <li>${pageLink(listing, current - 1, '‹ Previous', 'prev', current > 1)}</li>
          ${pageWindow(current, pages).map((n) =>
            n === 'gap'
              ? html`<li class="gap" aria-hidden="true">…</li>`
              : n === current
                ? html`<li><span class="button page-current" aria-current="page">${count(n)}</span></li>`
                : html`<li><a class="button button-quiet" href="${listUrl(listing.filters, n)}" aria-label="Page ${count(n)}">${count(n)}</a></li>`,
          )}
          <li>${pageLink(listing, current + 1, 'Next ›', 'next', current < pages)}</li>
          <li>${pageLink(listing, pages, 'Last »', 'last', current < pages)}</li>
        </ul>`
      : ''}
  </nav>`;
}

export function mailboxesPage(listing: MailboxListing, csrf: string, notice?: string): string {
  const { items, total } = listing.page;
  return page({
    title: 'Mailboxes',
    section: 'mailboxes',
    csrf,
    body: html`<link rel="stylesheet" href="/console/assets/mailboxes.css">
      <div class="page-head page-head-actions"><div><h1>Mailboxes</h1><p class="muted">${count(total)} ${total === 1 ? 'mailbox' : 'mailboxes'}${listing.filters.state ? html` in state ${CONNECTION_LABELS[listing.filters.state].label}` : ''}</p></div>
        <a class="button" href="/console/mailboxes/new">Add mailbox</a></div>
      ${notice ? html`<div class="alert alert-ok" role="status">${notice}</div>` : ''}
      ${filterForm(listing)}
      ${listing.ignored.length ? html`<div class="alert alert-warn" role="status">Ignored: ${listing.ignored.join('; ')}.</div>` : ''}
      ${items.length === 0
        ? emptyState(listing)
        : html`<div class="table-wrap"><table class="mailboxes stack-on-phone">
            <thead><tr><th scope="col">Address</th><th scope="col">State</th><th scope="col">Mail service</th><th scope="col">External id</th><th scope="col">Folders</th></tr></thead>
            <tbody>
              ${items.map(
                (item) => html`<tr>
                  <td><a href="/console/mailboxes/${item.id}">${item.email}</a></td>
                  <td>${connectionBadge(item.state)}</td>
                  <td>${item.providerName}</td>
                  <td>${item.externalId ?? html`<span class="muted">—</span>`}</td>
                  <td>${item.folders.length ? item.folders.join(', ') : html`<span class="muted">—</span>`}</td>
                </tr>`,
              )}
            </tbody>
          </table></div>
          ${pager(listing)}`}`,
  });
}
