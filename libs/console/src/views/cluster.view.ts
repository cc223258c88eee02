import type { ClusterResponse } from '@app/cluster';
import { badge, count, time } from './format';
import { html, SafeHtml } from './html';
import { page } from './layout';

/** Seconds since the replica's last heartbeat as of this page (replicas heartbeat every CLUSTER_HEARTBEAT_MS, 2 s by default). */
function heartbeatAge(heartbeatAt: string, now: number): string {
  return `${Math.max(0, (now - Date.parse(heartbeatAt)) / 1000).toFixed(1)} s ago`;
}

function summary(cluster: ClusterResponse): SafeHtml {
  const { replicas, mailboxes } = cluster;
  const draining = replicas.filter((replica) => replica.state === 'draining').length;
  return html`<div class="grid">
    <section class="card" aria-labelledby="replicas-heading">
      <h2 id="replicas-heading">Replicas</h2>
      <p class="figure"><span data-count="cluster.replicas">${count(replicas.length)}</span> <span class="muted">alive</span></p>
      <p class="muted">${draining > 0 ? html`<span data-count="cluster.draining">${count(draining)}</span> draining (handing their mailboxes over before they stop)` : 'None draining.'}</p>
    </section>
    <section class="card" aria-labelledby="held-heading">
      <h2 id="held-heading">Enabled mailboxes</h2>
      <p class="figure"><span data-count="cluster.total">${count(mailboxes.total)}</span></p>
      <dl class="pairs">
        <dt>Held by a replica</dt><dd data-count="cluster.owned">${count(mailboxes.owned)}</dd>
        <dt>Held by no one</dt><dd data-count="cluster.unowned" class="${mailboxes.unowned > 0 ? 'text-warn' : ''}">${count(mailboxes.unowned)}</dd>
      </dl>
      ${mailboxes.unowned > 0
        ? html`<div class="alert alert-warn" role="status">${count(mailboxes.unowned)} enabled mailbox${mailboxes.unowned === 1 ? ' is' : 'es are'} not being synced.
            ${replicas.length === 0 ? 'Start a listener replica.' : 'A replica that just died is replaced within CLUSTER_LEASE_TTL_MS (10 s); if the number stays, every replica is at its LISTENER_MAX_MAILBOXES cap: add a replica or raise the cap.'}</div>`
        : ''}
    </section>
  </div>`;
}

function replicasTable(cluster: ClusterResponse, now: number): SafeHtml {
  if (cluster.replicas.length === 0) {
    return html`<div class="empty-state"><strong>No listener replica is running</strong>
      <p>No mailbox is being synced. Start one with <code>npm start</code> or <code>npm run start:listener</code>; it shows up here within seconds.</p></div>`;
  }
  return html`<div class="table-wrap"><table class="replicas stack-on-phone">
    <thead><tr><th scope="col">Replica</th><th scope="col">State</th><th scope="col">Last heartbeat</th><th scope="col">Started</th><th scope="col" class="num">Mailboxes held</th></tr></thead>
    <tbody>
      ${cluster.replicas.map(
        (replica) => html`<tr data-replica="${replica.id}">
          <td><code class="wrap">${replica.id}</code></td>
          <td data-label="State">${replica.state === 'live' ? badge('Live', 'ok') : badge('Draining', 'warn')}</td>
          <td data-label="Last heartbeat"><span data-heartbeat-age>${heartbeatAge(replica.heartbeatAt, now)}</span> <span class="muted">(${time(replica.heartbeatAt)})</span></td>
          <td data-label="Started">${time(replica.startedAt)}</td>
          <td class="num" data-label="Mailboxes held" data-count="replica.mailboxes">${count(replica.mailboxes)}</td>
        </tr>`,
      )}
    </tbody>
  </table></div>`;
}

/** The listener fleet: what GET /v1/cluster answers, for people. */
export function clusterPage(cluster: ClusterResponse, csrf: string, now = Date.now()): string {
  return page({
    title: 'Cluster',
    section: 'cluster',
    csrf,
    body: html`<div class="page-head"><h1>Cluster</h1>
        <p class="muted">Listener replicas heard from within the lease time, and who holds the enabled mailboxes. As of ${time(new Date(now))}; reload for fresh numbers.</p></div>
      ${summary(cluster)}
      <section class="section" aria-labelledby="replica-list-heading">
        <h2 id="replica-list-heading">Replicas</h2>
        ${replicasTable(cluster, now)}
      </section>`,
  });
}
