import { CONNECTION_STATES, TOKEN_STATES } from '@app/persistence';
import type { Overview } from '../services/overview.service';
import { badge, CONNECTION_LABELS, count, time, TOKEN_LABELS } from './format';
import { html, SafeHtml } from './html';
import { page } from './layout';

function mailboxesCard(overview: Overview): SafeHtml {
  const { byState, total } = overview.mailboxes;
  return html`<section class="card" aria-labelledby="mailboxes-heading">
    <h2 id="mailboxes-heading">Mailboxes</h2>
    <p class="figure"><a href="/console/mailboxes" data-count="mailboxes.total">${count(total)}</a> <span class="muted">in all</span></p>
    ${total === 0
      ? html`<p class="empty">No mailboxes yet. Add one with <code>POST /v1/mailboxes</code>; it shows up here as soon as it is created.</p>`
      : html`<ul class="states">
          ${CONNECTION_STATES.map((state) => {
            const { label, tone } = CONNECTION_LABELS[state];
            return html`<li class="state state-${tone}${byState[state] === 0 ? ' state-zero' : ''}">
              <a href="/console/mailboxes?state=${state}" data-count="mailboxes.${state}"><span class="state-n">${count(byState[state])}</span> <span class="state-label">${label}</span></a>
            </li>`;
          })}
        </ul>`}
  </section>`;
}

function tokensCard(overview: Overview): SafeHtml {
  const { byState, soonestExpiry } = overview.tokens;
  const total = Object.values(byState).reduce((sum, n) => sum + n, 0);
  return html`<section class="card" aria-labelledby="tokens-heading">
    <h2 id="tokens-heading">OAuth tokens</h2>
    ${total === 0
      ? html`<p class="empty">No OAuth tokens. Mailboxes of OAuth 2.0 mail services get one when someone signs them in.</p>`
      : html`<dl class="pairs">
          ${TOKEN_STATES.map((state) => html`<dt>${badge(TOKEN_LABELS[state].label, TOKEN_LABELS[state].tone)}</dt><dd data-count="tokens.${state}">${count(byState[state])}</dd>`)}
        </dl>`}
    <p class="muted">Soonest expiry of an active token: ${time(soonestExpiry, 'none active')}</p>
  </section>`;
}

function clusterCard(overview: Overview): SafeHtml {
  const { replicas, mailboxes } = overview.cluster;
  return html`<section class="card wide" aria-labelledby="cluster-heading">
    <h2 id="cluster-heading">Listener replicas</h2>
    <p>
      <span data-count="cluster.replicas">${count(replicas.length)}</span> live ·
      <span data-count="cluster.owned">${count(mailboxes.owned)}</span> of ${count(mailboxes.total)} enabled mailboxes held ·
      <span data-count="cluster.unowned" class="${mailboxes.unowned > 0 ? 'text-warn' : ''}">${count(mailboxes.unowned)}</span> held by no one
    </p>
    ${replicas.length === 0
      ? html`<p class="empty">No listener replica is running, so no mailbox is being synced. Start one with <code>npm start</code> or <code>npm run start:listener</code>.</p>`
      : html`<div class="table-wrap"><table class="stack-on-phone">
          <thead><tr><th scope="col">Replica</th><th scope="col">State</th><th scope="col">Last heartbeat</th><th scope="col" class="num">Mailboxes</th></tr></thead>
          <tbody>
            ${replicas.map(
              (replica) => html`<tr>
                <td><code>${replica.id}</code></td>
                <td data-label="State">${badge(replica.state, replica.state === 'live' ? 'ok' : 'warn')}</td>
                <td data-label="Last heartbeat">${time(replica.heartbeatAt)}</td>
                <td class="num" data-label="Mailboxes">${count(replica.mailboxes)}</td>
              </tr>`,
            )}
          </tbody>
        </table></div>`}
    <p><a href="/console/cluster">Cluster details</a></p>
  </section>`;
}

function queuesCard(overview: Overview): SafeHtml {
  return html`<section class="card wide" aria-labelledby="queues-heading">
    <h2 id="queues-heading">Queues</h2>
    <div class="table-wrap"><table class="stack-on-phone">
      <thead><tr><th scope="col">Queue</th><th scope="col" class="num">Waiting</th><th scope="col" class="num">Active</th><th scope="col" class="num">Delayed</th><th scope="col" class="num">Failed</th></tr></thead>
      <tbody>
        ${overview.queues.map(
          (queue) => html`<tr>
            <td><code>${queue.name}</code></td>
            <td class="num" data-label="Waiting" data-count="queue.${queue.name}.waiting">${count(queue.waiting)}</td>
            <td class="num" data-label="Active">${count(queue.active)}</td>
            <td class="num" data-label="Delayed">${count(queue.delayed)}</td>
            <td class="num${queue.failed > 0 ? ' text-bad' : ''}" data-label="Failed">${count(queue.failed)}</td>
          </tr>`,
        )}
      </tbody>
    </table></div>
    <p><a href="/console/queues">Jobs in Bull Board</a> <span class="muted">(read-only)</span></p>
  </section>`;
}

function webhooksCard(overview: Overview): SafeHtml {
  const { total, failing } = overview.webhooks;
  return html`<section class="card wide" aria-labelledby="webhooks-heading">
    <h2 id="webhooks-heading">Webhooks</h2>
    ${total === 0
      ? html`<p class="empty">No webhook endpoints. Register one with <code>POST /v1/webhooks</code> to receive events over HTTPS.</p>`
      : failing.length === 0
        ? html`<p><span data-count="webhooks.failing">0</span> failing · all ${count(total)} endpoints delivering.</p>`
        : html`<p><span data-count="webhooks.failing" class="text-bad">${count(failing.length)}</span> of ${count(total)} endpoints failing</p>
            <ul class="list">
              ${failing.map(
                (webhook) => html`<li>
                  <a href="/console/webhooks/${webhook.id}"><code class="wrap">${webhook.url}</code></a><br>
                  ${webhook.enabled ? html`${badge('Failing', 'bad')} since ${time(webhook.failingSince)}` : html`${badge('Disabled', 'idle')} ${webhook.disabledReason}`}
                </li>`,
              )}
            </ul>`}
    ${total > 0 ? html`<p><a href="/console/webhooks">Endpoints and delivery logs</a></p>` : ''}
  </section>`;
}

export function overviewPage(overview: Overview, csrf: string): string {
  return page({
    title: 'Overview',
    section: 'overview',
    csrf,
    body: html`<div class="page-head"><h1>Overview</h1><p class="muted">As of ${time(new Date())}; reload for fresh numbers.</p></div>
      <div class="grid">
        ${mailboxesCard(overview)} ${tokensCard(overview)} ${clusterCard(overview)} ${queuesCard(overview)} ${webhooksCard(overview)}
      </div>`,
  });
}
