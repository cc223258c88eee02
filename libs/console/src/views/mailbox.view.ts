import type { MailboxResponse, MailboxStatusResponse } from '@app/mailboxes';
import { connectionBadge, time } from './format';
import { tokenPanel } from './mailbox-token.view';
import { html, SafeHtml } from './html';
import { page } from './layout';

export interface MailboxView {
  mailbox: MailboxResponse;
  status: MailboxStatusResponse;
  providerName: string;
  csrf: string;
  /** What the last button did, to say so at the top. */
  notice?: string;
}

function action(view: MailboxView, path: string, label: string, options: { quiet?: boolean; confirm?: string; disabled?: string } = {}): SafeHtml {
  return html`<form method="post" action="/console/mailboxes/${view.mailbox.id}/${path}"${options.confirm ? html` data-confirm="${options.confirm}"` : ''}>
    <input type="hidden" name="_csrf" value="${view.csrf}">
    <button type="submit" class="button${options.quiet ? ' button-quiet' : ''}"${options.disabled ? html` disabled title="${options.disabled}"` : ''}>${label}</button>
  </form>`;
}

function connectionCard(view: MailboxView): SafeHtml {
  const { connection, recommendedAction, owner, sync } = view.status;
  return html`<section class="card" aria-labelledby="connection-heading">
    <h2 id="connection-heading">Connection</h2>
    <p class="lead" data-state="${connection.state}">${connectionBadge(connection.state)} since ${time(connection.since)}</p>
    ${recommendedAction ? html`<div class="alert alert-warn" role="status"><strong>What to do:</strong> ${recommendedAction}</div>` : ''}
    <dl class="pairs">
      <dt>Last error</dt>
      <dd>${connection.lastError ? html`<code>${connection.lastError.code}</code> ${connection.lastError.message} <span class="muted">(${time(connection.lastError.at)})</span>` : html`<span class="muted">none</span>`}</dd>
      <dt>Held by</dt>
      <dd>${owner ? html`<code>${owner}</code>` : html`<span class="muted">no listener replica</span>`}</dd>
      <dt>Last event</dt>
      <dd>${time(sync.lastEventAt, 'none yet')}${sync.lagSeconds !== null ? html` <span class="muted">(lag ${sync.lagSeconds.toFixed(1)} s)</span>` : ''}</dd>
    </dl>
    <div class="buttons">
      ${action(view, 'resync', 'Resync now', { disabled: view.mailbox.enabled ? undefined : 'Enable the mailbox to sync it' })}
      ${view.mailbox.enabled
        ? action(view, 'disable', 'Disable', { quiet: true, confirm: `Stop syncing ${view.mailbox.email}? No events are published until it is enabled again.` })
        : action(view, 'enable', 'Enable', { quiet: true })}
    </div>
  </section>`;
}

function foldersCard(view: MailboxView): SafeHtml {
  return html`<section class="card wide" aria-labelledby="folders-heading">
    <h2 id="folders-heading">Folders</h2>
    <div class="table-wrap"><table>
      <thead><tr><th scope="col">Folder</th><th scope="col">Mode</th><th scope="col">Cursor</th><th scope="col">Last in sync</th></tr></thead>
      <tbody>
        ${view.status.sync.folders.map(
          (folder) => html`<tr>
            <td>${folder.name}</td>
            <td>${folder.mode ?? html`<span class="muted">not opened yet</span>`}</td>
            <td>${folder.lastUid !== null ? html`UID ${folder.lastUid} <span class="muted">(validity ${folder.uidValidity})</span>` : folder.subscriptionId ? html`subscription until ${time(folder.subscriptionExpiresAt)}` : html`<span class="muted">—</span>`}</td>
            <td>${time(folder.lastSyncedAt, 'never')}</td>
          </tr>`,
        )}
      </tbody>
    </table></div>
  </section>`;
}

export function mailboxPage(view: MailboxView): string {
  const { mailbox } = view;
  return page({
    title: mailbox.email,
    section: 'mailboxes',
    csrf: view.csrf,
    body: html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/console/mailboxes">Mailboxes</a> / <span aria-current="page">${mailbox.email}</span></nav>
      <div class="page-head"><h1>${mailbox.email}</h1>
        <p class="muted">${view.providerName} · login <code>${mailbox.login}</code>${mailbox.externalId ? html` · external id <code>${mailbox.externalId}</code>` : ''} · id <code>${mailbox.id}</code></p></div>
      ${view.notice ? html`<div class="alert alert-ok" role="status">${view.notice}</div>` : ''}
      <div class="grid">${connectionCard(view)} ${tokenPanel(view)} ${foldersCard(view)}</div>`,
  });
}
