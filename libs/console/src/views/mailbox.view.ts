import type { ConnectionState } from '@app/persistence';
import type { FolderSyncResponse } from '@app/mailboxes';
import type { MailboxPageData } from '../services/mailbox-page.service';
import { badge, connectionBadge, count, time } from './format';
import { html, SafeHtml } from './html';
import { page } from './layout';
import { tokenPanel } from './mailbox-token.view';

export interface MailboxView extends MailboxPageData {
  csrf: string;
  /** What the last button did, to say so at the top. */
  notice?: string;
}

/** What each state means for the person reading, before the API's recommended action says what to do. */
const STATE_MEANING: Record<ConnectionState, string> = {
  connected: 'Listening: new mail is published within seconds of arriving.',
  connecting: 'A listener is logging in to the mail server.',
  pending: 'Waiting for a listener replica to pick the mailbox up.',
  backoff: 'The last attempt to connect failed; the listener tries again by itself.',
  auth_error: 'The mail server refused the login, so nothing is being synced.',
  disabled: 'Not synced: there is no connection and no events are published.',
};

const FOLDER_MODES: Record<NonNullable<FolderSyncResponse['mode']>, string> = {
  idle: 'IMAP IDLE (the server pushes)',
  push: 'Graph notifications (push)',
  polling: 'Graph delta (polling)',
};

function action(view: MailboxView, path: string, label: string, options: { quiet?: boolean; danger?: boolean; confirm?: string; disabled?: string } = {}): SafeHtml {
  const tone = options.danger ? ' button-danger' : options.quiet ? ' button-quiet' : '';
  return html`<form method="post" action="/console/mailboxes/${view.mailbox.id}/${path}"${options.confirm ? html` data-confirm="${options.confirm}"` : ''}>
    <input type="hidden" name="_csrf" value="${view.csrf}">
    <button type="submit" class="button${tone}"${options.disabled ? html` disabled title="${options.disabled}"` : ''}>${label}</button>
  </form>`;
}

function connectionCard(view: MailboxView): SafeHtml {
  const { connection, recommendedAction } = view.status;
  return html`<section class="card" aria-labelledby="connection-heading" data-live="connection">
    <h2 id="connection-heading">Connection</h2>
    <p class="lead" data-state="${connection.state}">${connectionBadge(connection.state)} since ${time(connection.since)}</p>
    <p class="state-meaning">${STATE_MEANING[connection.state]}</p>
    ${recommendedAction ? html`<div class="alert alert-warn" data-recommended-action><strong>What to do:</strong> ${recommendedAction}</div>` : ''}
    <dl class="pairs">
      <dt>Last error</dt>
      <dd>${connection.lastError ? html`<code>${connection.lastError.code}</code> ${connection.lastError.message} <span class="muted">(${time(connection.lastError.at)})</span>` : html`<span class="muted">none</span>`}</dd>
    </dl>
    <div class="buttons">
      ${action(view, 'resync', 'Resync now', { disabled: view.mailbox.enabled ? undefined : 'Enable the mailbox to sync it' })}
      ${view.mailbox.enabled
        ? action(view, 'disable', 'Disable', { quiet: true, confirm: `Stop syncing ${view.mailbox.email}? No events are published until it is enabled again.` })
        : action(view, 'enable', 'Enable', { quiet: true })}
    </div>
  </section>`;
}

function ownerText(view: MailboxView): SafeHtml {
  const { owner } = view.status;
  if (!owner) return html`<span class="muted">no listener replica${view.mailbox.enabled ? ' yet' : ' (disabled)'}</span>`;
  const replica = view.ownerReplica;
  if (!replica) return html`<code data-owner>${owner}</code> <span class="muted">(not among the live replicas)</span>`;
  return html`<code data-owner>${owner}</code> ${badge(replica.state, replica.state === 'live' ? 'ok' : 'warn')}
    <span class="muted">heartbeat ${time(replica.heartbeatAt)} · holds ${count(replica.mailboxes)} ${replica.mailboxes === 1 ? 'mailbox' : 'mailboxes'}</span>`;
}

function syncCard(view: MailboxView): SafeHtml {
  const { sync } = view.status;
  return html`<section class="card wide" aria-labelledby="sync-heading" data-live="sync">
    <h2 id="sync-heading">Sync</h2>
    <dl class="pairs">
      <dt>Held by</dt><dd>${ownerText(view)}</dd>
      <dt>Last event</dt><dd>${time(sync.lastEventAt, 'none yet')}</dd>
      <dt>Lag</dt><dd data-lag>${sync.lagSeconds !== null ? `${sync.lagSeconds.toFixed(1)} s from arrival to publishing` : html`<span class="muted">not measured yet (no event)</span>`}</dd>
    </dl>
  </section>`;
}

function cursorOf(folder: FolderSyncResponse): SafeHtml {
  if (folder.lastUid !== null) {
    const validity = html`<span class="muted">(validity ${folder.uidValidity})</span>`;
    return folder.lastUid > 0 ? html`UID ${folder.lastUid} ${validity}` : html`no message yet ${validity}`;
  }
  if (folder.subscriptionId) return html`subscription until ${time(folder.subscriptionExpiresAt)}`;
  return html`<span class="muted">none yet</span>`;
}

function foldersCard(view: MailboxView): SafeHtml {
  return html`<section class="card wide" aria-labelledby="folders-heading" data-live="folders">
    <h2 id="folders-heading">Folders</h2>
    <div class="table-wrap"><table class="folders stack-on-phone">
      <thead><tr><th scope="col">Folder</th><th scope="col">Mode</th><th scope="col">Cursor</th><th scope="col">Last in sync</th></tr></thead>
      <tbody>
        ${view.status.sync.folders.map(
          (folder) => html`<tr data-folder="${folder.name}">
            <td data-label="Folder"><strong>${folder.name}</strong></td>
            <td data-label="Mode">${folder.mode ? FOLDER_MODES[folder.mode] : html`<span class="muted">not opened yet</span>`}</td>
            <td data-label="Cursor">${cursorOf(folder)}</td>
            <td data-label="Last in sync">${time(folder.lastNotificationAt ?? folder.lastSyncedAt, 'never')}</td>
          </tr>`,
        )}
      </tbody>
    </table></div>
  </section>`;
}

function deleteCard(view: MailboxView): SafeHtml {
  return html`<section class="card wide danger-zone" aria-labelledby="delete-heading">
    <h2 id="delete-heading">Delete mailbox</h2>
    <p>Stops syncing and removes the mailbox with its stored password or token and its sync cursors. Events already published stay with the CRM. The same as <code>DELETE /v1/mailboxes/${view.mailbox.id}</code>.</p>
    ${action(view, 'delete', 'Delete mailbox', { danger: true, confirm: `Delete ${view.mailbox.email}? Its sync cursors and credentials are removed; this cannot be undone.` })}
  </section>`;
}

/**
 * The parts of the page that change by themselves, by their data-live name: what GET …/live sends back.
 * Not the token panel: it polls its own route while a sign-in waits (mailbox-token.js), and swapping it on
 * every change of its countdown would disturb a person copying the code.
 */
export function liveSections(view: MailboxView): Record<string, string> {
  return { connection: connectionCard(view).text, sync: syncCard(view).text, folders: foldersCard(view).text };
}

export function mailboxPage(view: MailboxView): string {
  const { mailbox, provider } = view;
  return page({
    title: mailbox.email,
    section: 'mailboxes',
    csrf: view.csrf,
    body: html`<link rel="stylesheet" href="/console/assets/mailboxes.css">
      <script src="/console/assets/mailbox-live.js" defer></script>
      <nav class="crumbs" aria-label="Breadcrumb"><a href="/console/mailboxes">Mailboxes</a> / <span aria-current="page">${mailbox.email}</span></nav>
      <div class="page-head"><h1>${mailbox.email}</h1>
        <p class="muted">${provider.name} (${provider.authMethod === 'oauth2' ? 'OAuth 2.0' : 'password'}) · login <code>${mailbox.login}</code>${mailbox.externalId ? html` · external id <code>${mailbox.externalId}</code>` : ''} · id <code>${mailbox.id}</code></p>
        <p class="live-note muted" data-live-note hidden>Live: this page updates by itself.</p></div>
      ${view.notice ? html`<div class="alert alert-ok" role="status">${view.notice}</div>` : ''}
      <div class="visually-hidden" aria-live="polite" data-live-announce></div>
      <div class="grid" data-live-url="/console/mailboxes/${mailbox.id}/live">
        ${connectionCard(view)}
        <!-- Token panel: the OAuth sign-in flows live in mailbox-token.view.ts -->
        ${tokenPanel(view)}
        ${syncCard(view)} ${foldersCard(view)} ${deleteCard(view)}
      </div>`,
  });
}
