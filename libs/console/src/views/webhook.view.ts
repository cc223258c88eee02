import type { WebhookResponse } from '@app/webhooks';
import type { DeliveryGroup } from '../services/webhook-endpoints.service';
import { time } from './format';
import { html, SafeHtml } from './html';
import { page } from './layout';
import { attemptResult, endpointState } from './webhooks.view';

export interface WebhookView {
  endpoint: WebhookResponse;
  deliveries: DeliveryGroup[];
  csrf: string;
  /** What the last button did, to say so at the top. */
  notice?: SafeHtml;
}

function post(view: WebhookView, path: string, label: string, quiet = false): SafeHtml {
  return html`<form method="post" action="/console/webhooks/${view.endpoint.id}/${path}">
    <input type="hidden" name="_csrf" value="${view.csrf}">
    <button type="submit" class="button${quiet ? ' button-quiet' : ''}">${label}</button>
  </form>`;
}

function endpointCard(view: WebhookView): SafeHtml {
  const { endpoint } = view;
  return html`<section class="card wide" aria-labelledby="endpoint-heading">
    <h2 id="endpoint-heading">Endpoint</h2>
    <dl class="pairs">
      <dt>State</dt><dd>${endpointState(endpoint)}</dd>
      <dt>Events</dt><dd>${endpoint.events.map((event) => html`<code>${event === '*' ? 'all events' : event}</code> `)}</dd>
      <dt>Description</dt><dd>${endpoint.description ?? html`<span class="muted">none</span>`}</dd>
      <dt>Signing secret</dt><dd><strong>set</strong> <span class="muted">(shown once, when created or rotated: <code>POST /v1/webhooks/${endpoint.id}/rotate-secret</code>)</span>
        ${endpoint.previousSecretExpiresAt ? html`<br><span class="muted">The previous secret signs too until ${time(endpoint.previousSecretExpiresAt)}.</span>` : ''}</dd>
      <dt>Created</dt><dd>${time(endpoint.createdAt)}</dd>
    </dl>
    ${endpoint.enabled
      ? html`<div class="buttons">${post(view, 'test', 'Send test event')}</div>`
      : html`<p class="alert alert-warn">Deliveries are stopped. Enable the endpoint with <code>PATCH /v1/webhooks/${endpoint.id}</code> <code>{"enabled": true}</code>; its pending deliveries then go out.</p>`}
  </section>`;
}

function logTable(view: WebhookView): SafeHtml {
  if (view.deliveries.length === 0) {
    return html`<div class="empty-state"><strong>No deliveries yet</strong><p>Events this endpoint subscribes to appear here with every attempt. Send a test event to try it.</p></div>`;
  }
  return html`<div class="table-wrap"><table class="deliveries stack-on-phone">
    <thead><tr><th scope="col">Event</th><th scope="col" class="num">Attempt</th><th scope="col">Result</th><th scope="col" class="num">Time</th><th scope="col">At</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
    ${view.deliveries.map(
      (group) => html`<tbody data-event="${group.eventId}">
        ${group.attempts.map(
          (attempt, index) => html`<tr>
            ${index === 0 ? html`<td rowspan="${group.attempts.length}"><code class="wrap">${group.eventType}</code><br><code class="wrap muted">${group.eventId}</code></td>` : ''}
            <td class="num" data-label="Attempt">${attempt.attempt}</td>
            <td data-label="Result">${attemptResult(attempt)}</td>
            <td class="num" data-label="Time">${attempt.durationMs} ms</td>
            <td data-label="At">${time(attempt.at)}</td>
            ${index === 0
              ? html`<td rowspan="${group.attempts.length}">${group.retryable && view.endpoint.enabled ? post(view, `deliveries/${encodeURIComponent(group.eventId)}/retry`, 'Retry', true) : ''}</td>`
              : ''}
          </tr>`,
        )}
      </tbody>`,
    )}
  </table></div>`;
}

export function webhookPage(view: WebhookView): string {
  const { endpoint } = view;
  return page({
    title: endpoint.url,
    section: 'webhooks',
    csrf: view.csrf,
    body: html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/console/webhooks">Webhooks</a> / <span aria-current="page">${endpoint.description ?? 'Endpoint'}</span></nav>
      <div class="page-head"><h1><code class="wrap">${endpoint.url}</code></h1><p class="muted">id <code>${endpoint.id}</code></p></div>
      ${view.notice ? html`<div class="alert alert-ok" role="status">${view.notice}</div>` : ''}
      <div class="grid">${endpointCard(view)}</div>
      <section class="section" aria-labelledby="log-heading">
        <h2 id="log-heading">Delivery log</h2>
        <p class="muted">The latest attempts, newest first. Failed deliveries are retried with backoff for 24 h; Retry sends one now. Reload for fresh entries.</p>
        ${logTable(view)}
      </section>`,
  });
}
