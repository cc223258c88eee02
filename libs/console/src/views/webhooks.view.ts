import type { DeliveryAttemptResponse, WebhookResponse } from '@app/webhooks';
import { delivered, WebhookRow } from '../services/webhook-endpoints.service';
import { badge, count, time } from './format';
import { html, SafeHtml } from './html';
import { page } from './layout';

/** Active / Failing since … / Disabled, the reason beside it. */
export function endpointState(endpoint: WebhookResponse): SafeHtml {
  if (!endpoint.enabled) {
    return html`<span data-endpoint-state="disabled">${badge('Disabled', 'idle')}${endpoint.disabledReason ? html` <span class="reason">${endpoint.disabledReason}</span>` : html` <span class="muted">by an operator</span>`}</span>`;
  }
  if (endpoint.failingSince) return html`<span data-endpoint-state="failing">${badge('Failing', 'bad')} <span class="muted">since ${time(endpoint.failingSince)}</span></span>`;
  return html`<span data-endpoint-state="active">${badge('Active', 'ok')}</span>`;
}

/** An attempt's outcome: Delivered (status), or what went wrong. */
export function attemptResult(attempt: DeliveryAttemptResponse): SafeHtml {
  if (delivered(attempt)) return html`${badge('Delivered', 'ok')} <span class="muted">${attempt.status}</span>`;
  return html`${badge('Failed', 'bad')} <span class="reason">${attempt.error ?? `HTTP ${attempt.status}`}</span>`;
}

function lastDelivery(attempt: DeliveryAttemptResponse | null): SafeHtml {
  if (!attempt) return html`<span class="muted">none yet</span>`;
  return html`${attemptResult(attempt)}<br><span class="muted">${attempt.eventType} · ${time(attempt.at)}</span>`;
}

function endpointsTable(rows: WebhookRow[]): SafeHtml {
  return html`<div class="table-wrap"><table class="webhooks stack-on-phone">
    <thead><tr><th scope="col">Endpoint</th><th scope="col">Events</th><th scope="col">State</th><th scope="col">Last delivery</th></tr></thead>
    <tbody>
      ${rows.map(
        ({ endpoint, lastAttempt }) => html`<tr data-webhook="${endpoint.id}">
          <td><a href="/console/webhooks/${endpoint.id}"><code class="wrap">${endpoint.url}</code></a>${endpoint.description ? html`<br><span class="muted">${endpoint.description}</span>` : ''}</td>
          <td data-label="Events">${endpoint.events.map((event) => html`<code>${event === '*' ? 'all events' : event}</code> `)}</td>
          <td data-label="State">${endpointState(endpoint)}</td>
          <td data-label="Last delivery">${lastDelivery(lastAttempt)}</td>
        </tr>`,
      )}
    </tbody>
  </table></div>`;
}

export function webhooksPage(listing: { rows: WebhookRow[]; total: number }, csrf: string): string {
  const failing = listing.rows.filter(({ endpoint }) => endpoint.enabled && endpoint.failingSince).length;
  const disabled = listing.rows.filter(({ endpoint }) => !endpoint.enabled).length;
  return page({
    title: 'Webhooks',
    section: 'webhooks',
    csrf,
    body: html`<div class="page-head"><h1>Webhooks</h1>
        <p class="muted">Endpoints that receive events over HTTPS, signed as Standard Webhooks. Register, change or delete them with <code>/v1/webhooks</code>.</p></div>
      ${listing.total === 0
        ? html`<div class="empty-state"><strong>No webhook endpoints</strong>
            <p>Register one with <code>POST /v1/webhooks</code> (<code>{"url": "https://crm.example.com/hooks/mail", "events": ["*"]}</code>); its secret is in that answer only. It shows up here with its delivery log.</p></div>`
        : html`<p><span data-count="webhooks.total">${count(listing.total)}</span> endpoint${listing.total === 1 ? '' : 's'} ·
              <span data-count="webhooks.failing" class="${failing > 0 ? 'text-bad' : ''}">${count(failing)}</span> failing ·
              <span data-count="webhooks.disabled">${count(disabled)}</span> disabled</p>
            ${endpointsTable(listing.rows)}
            ${listing.total > listing.rows.length ? html`<p class="muted">Showing the first ${count(listing.rows.length)}; <code>GET /v1/webhooks?offset=</code> lists the rest.</p>` : ''}`}`,
  });
}
