import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuthMethod, ConnectionState } from '@app/persistence';
import { StatusSnapshot, statusSnapshotOf } from './mailbox-state.reporter';
import { DEFAULT_GRAPH_BASE_URL } from '@app/providers';
import { MailboxSpec } from './mailbox-spec';

interface SpecRow {
  id: string;
  email: string;
  external_id: string | null;
  login: string;
  provider_id: string;
  backfill_since: Date | null;
  mailbox_updated: Date;
  type: 'imap' | 'microsoft-graph';
  graph_base_url: string | null;
  host: string | null;
  port: number | null;
  secure: boolean;
  verify_certificate: boolean;
  auth_method: AuthMethod;
  oauth_app_only: boolean;
  provider_updated: Date;
  token_generation: number | null;
  token_state: string | null;
  resync_requested_at: Date | null;
  connection_state: ConnectionState | null;
  state_version: string | null;
  last_error_code: string | null;
  owner_id: string | null;
}

export interface DesiredMailbox {
  spec: MailboxSpec;
  resyncRequestedAt: Date | null;
  /** The status row as read with the spec (null: none yet): spares the reporter a read on the first change. */
  status: StatusSnapshot | null;
}

/** Reads which mailboxes should be listening (enabled, on a provider that loads mail) and how. */
@Injectable()
export class MailboxSpecsLoader {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async desired(): Promise<Map<string, DesiredMailbox>> {
    const rows: SpecRow[] = await this.dataSource.query(`
      SELECT m.id, m.email, m.external_id, m.login, m.provider_id, m.backfill_since, m.updated_at AS mailbox_updated,
             p.type, p.graph_base_url, p.host, p.port, p.secure, p.verify_certificate, p.auth_method, p.oauth_app_only, p.updated_at AS provider_updated,
             coalesce(t.generation, a.generation) AS token_generation, coalesce(t.state, a.state)::text AS token_state,
             s.resync_requested_at, s.connection_state, s.state_version, s.last_error_code, s.owner_id
      FROM mailboxes m
      JOIN providers p ON p.id = m.provider_id
      LEFT JOIN oauth_tokens t ON t.mailbox_id = m.id
      LEFT JOIN oauth_tokens a ON p.oauth_app_only AND a.provider_id = p.id AND a.mailbox_id IS NULL
      LEFT JOIN mailbox_status s ON s.mailbox_id = m.id
      WHERE m.enabled AND p.load_emails AND (p.type = 'microsoft-graph' OR p.host IS NOT NULL)`);
    const folders: { id: string; mailbox_id: string; path: string }[] = await this.dataSource.query(
      `SELECT f.id, f.mailbox_id, f.path FROM mailbox_folders f JOIN mailboxes m ON m.id = f.mailbox_id WHERE m.enabled ORDER BY f.mailbox_id, f.position`,
    );
    const foldersOf = new Map<string, { id: string; path: string }[]>();
    for (const folder of folders) {
      const list = foldersOf.get(folder.mailbox_id) ?? [];
      list.push({ id: folder.id, path: folder.path });
      foldersOf.set(folder.mailbox_id, list);
    }
    const desired = new Map<string, DesiredMailbox>();
    for (const row of rows) {
      const mailboxFolders = foldersOf.get(row.id) ?? [];
      const graphBase = (row.graph_base_url ?? DEFAULT_GRAPH_BASE_URL).replace(/\/+$/, '');
      desired.set(row.id, {
        resyncRequestedAt: row.resync_requested_at,
        status: statusSnapshotOf(row),
        spec: {
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
          folders: mailboxFolders,
          backfillSince: row.backfill_since,
          fingerprint: [
            new Date(row.mailbox_updated).getTime(),
            new Date(row.provider_updated).getTime(),
            row.token_generation ?? '-',
            row.token_state ?? '-',
            mailboxFolders.map((f) => f.id).join(','),
          ].join('|'),
        },
      });
    }
    return desired;
  }

  /**
   * A cheap summary of everything `desired()` depends on. The supervisor reloads the full list only when
   * it changes, so an idle fleet of 10,000 mailboxes costs one small aggregate query per interval.
   * (Token refreshes do not change it: only grants and states matter.)
   */
  async version(): Promise<string> {
    const [row]: Record<string, unknown>[] = await this.dataSource.query(`
      SELECT (SELECT count(*) || ':' || coalesce(max(updated_at)::text, '') FROM mailboxes) AS mailboxes,
             (SELECT count(*) || ':' || coalesce(max(updated_at)::text, '') FROM providers) AS providers,
             (SELECT count(*) || ':' || coalesce(sum(generation), 0) || ':' || count(*) FILTER (WHERE state = 'active') FROM oauth_tokens) AS tokens,
             (SELECT count(*) FROM mailbox_folders) AS folders,
             (SELECT count(*) FROM mailbox_status WHERE resync_requested_at IS NOT NULL) AS resyncs`);
    return Object.values(row).join('|');
  }

  async clearResync(mailboxId: string, requestedAt: Date): Promise<void> {
    await this.dataSource.query(`UPDATE mailbox_status SET resync_requested_at = NULL WHERE mailbox_id = $1 AND resync_requested_at = $2`, [mailboxId, requestedAt]);
  }

  async exists(mailboxId: string): Promise<boolean> {
    const [row] = await this.dataSource.query(`SELECT 1 FROM mailboxes WHERE id = $1`, [mailboxId]);
    return Boolean(row);
  }

  async disable(mailboxId: string): Promise<void> {
    await this.dataSource.query(`UPDATE mailboxes SET enabled = false, updated_at = now() WHERE id = $1`, [mailboxId]);
  }
}
