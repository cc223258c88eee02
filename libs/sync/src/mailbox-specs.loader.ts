import { Injectable } from '@nestjs/common';
import { StatusSnapshot, statusSnapshotOf } from './mailbox-state.reporter';
import { DEFAULT_GRAPH_BASE_URL } from '@app/providers';
import { MailboxSpec } from './mailbox-spec';
import { MailboxSpecRepository, MailboxSpecRow } from './mailbox-spec.repository';

export interface DesiredMailbox {
  spec: MailboxSpec;
  resyncRequestedAt: Date | null;
  /** The status row as read with the spec (null: none yet): spares the reporter a read on the first change. */
  status: StatusSnapshot | null;
}

/**
 * Which mailboxes should be listening (enabled, on a provider that loads mail) and how: the rows of
 * MailboxSpecRepository made into MailboxSpecs, with the fingerprint that tells the supervisor a runner
 * must restart.
 */
@Injectable()
export class MailboxSpecsLoader {
  constructor(private readonly repository: MailboxSpecRepository) {}

  /** `ids`: only those mailboxes (the ones a control message is about), else every one. */
  async desired(ids?: string[]): Promise<Map<string, DesiredMailbox>> {
    const { rows, folders } = await this.repository.enabledSpecs(ids);
    const foldersOf = new Map<string, { id: string; path: string }[]>();
    for (const folder of folders) {
      const list = foldersOf.get(folder.mailbox_id) ?? [];
      list.push({ id: folder.id, path: folder.path });
      foldersOf.set(folder.mailbox_id, list);
    }
    const desired = new Map<string, DesiredMailbox>();
    for (const row of rows) {
      desired.set(row.id, { resyncRequestedAt: row.resync_requested_at, status: statusSnapshotOf(row), spec: mailboxSpecOf(row, foldersOf.get(row.id) ?? []) });
    }
    return desired;
  }
}

/** A spec row and its folders → the MailboxSpec every runner (and the API's message reader) connects by. */
export function mailboxSpecOf(row: MailboxSpecRow, mailboxFolders: { id: string; path: string }[]): MailboxSpec {
  const graphBase = (row.graph_base_url ?? DEFAULT_GRAPH_BASE_URL).replace(/\/+$/, '');
  return {
    id: row.id,
    email: row.email,
    externalId: row.external_id,
    login: row.login,
    providerId: row.provider_id,
    kind: row.type === 'microsoft-graph' ? 'graph' : 'imap',
    graphBaseUrl: row.type === 'microsoft-graph' ? graphBase : null,
    authMethod: row.auth_method,
    appOnly: row.oauth_app_only,
    endpoint:
      row.type === 'microsoft-graph'
        ? { host: new URL(graphBase).host, port: 443, secure: true, verifyCertificate: row.verify_certificate }
        : { host: row.host!, port: row.port!, secure: row.secure, verifyCertificate: row.verify_certificate },
    folders: mailboxFolders.map((f) => ({ id: f.id, path: f.path })),
    backfillSince: row.backfill_since,
    fingerprint: [
      new Date(row.mailbox_updated).getTime(),
      new Date(row.provider_updated).getTime(),
      row.token_generation ?? '-',
      row.token_state ?? '-',
      mailboxFolders.map((f) => f.id).join(','),
    ].join('|'),
  };
}
