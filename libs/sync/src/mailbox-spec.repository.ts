import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuthMethod, ConnectionState } from '@app/persistence';

/** An enabled mailbox on a provider that loads mail, with what decides how (and whether) it runs. */
export interface MailboxSpecRow {
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

export interface MailboxFolderRow {
  id: string;
  mailbox_id: string;
  path: string;
}

const SPEC_SELECT = `
      SELECT m.id, m.email, m.external_id, m.login, m.provider_id, m.backfill_since, m.updated_at AS mailbox_updated,
             p.type, p.graph_base_url, p.host, p.port, p.secure, p.verify_certificate, p.auth_method, p.oauth_app_only, p.updated_at AS provider_updated,
             coalesce(t.generation, a.generation) AS token_generation, coalesce(t.state, a.state)::text AS token_state,
             s.resync_requested_at, s.connection_state, s.state_version, s.last_error_code, s.owner_id
      FROM mailboxes m
      JOIN providers p ON p.id = m.provider_id
      LEFT JOIN oauth_tokens t ON t.mailbox_id = m.id
      LEFT JOIN oauth_tokens a ON p.oauth_app_only AND a.provider_id = p.id AND a.mailbox_id IS NULL
      LEFT JOIN mailbox_status s ON s.mailbox_id = m.id`;

/** SPEC_SELECT's output columns, for a statement that reads a spec row beside other rows (mailboxSpecSubquery). */
export const MAILBOX_SPEC_COLUMNS = [
  'id', 'email', 'external_id', 'login', 'provider_id', 'backfill_since', 'mailbox_updated', 'type', 'graph_base_url', 'host', 'port', 'secure',
  'verify_certificate', 'auth_method', 'oauth_app_only', 'provider_updated', 'token_generation', 'token_state', 'resync_requested_at',
  'connection_state', 'state_version', 'last_error_code', 'owner_id',
] as const satisfies readonly (keyof MailboxSpecRow)[];

/**
 * The spec row of the mailbox `mailboxIdSql` (an expression of the enclosing statement) as a subquery of
 * MAILBOX_SPEC_COLUMNS: the send worker reads it in the statement that starts an attempt, not in one of its own.
 */
export function mailboxSpecSubquery(mailboxIdSql: string): string {
  return `${SPEC_SELECT} WHERE m.id = ${mailboxIdSql}`;
}

/** All SQL about which mailboxes the listener should run: the specs, their cheap version, resync requests. */
@Injectable()
export class MailboxSpecRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Enabled mailboxes on providers that load mail (and have somewhere to connect to), with token and status
   * columns, and their folders (each mailbox's in its configured order); `ids`: only those (a control
   * message's mailboxes), else all. Both read from one snapshot: read apart, a mailbox deleted (its folders
   * with it) between the two came back with no folders, its runner was replaced by one following nothing,
   * and the Graph subscription the old one kept for it was never deleted (graph-listener test, ~1 run in 6).
   */
  enabledSpecs(ids?: string[]): Promise<{ rows: MailboxSpecRow[]; folders: MailboxFolderRow[] }> {
    const only = ids ? ' AND m.id = ANY($1::uuid[])' : '';
    const params = ids ? [ids] : [];
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const rows = (await manager.query(`${SPEC_SELECT} WHERE m.enabled AND p.load_emails AND (p.type = 'microsoft-graph' OR p.host IS NOT NULL)${only}`, params)) as MailboxSpecRow[];
      const folders = (await manager.query(
        `SELECT f.id, f.mailbox_id, f.path FROM mailbox_folders f JOIN mailboxes m ON m.id = f.mailbox_id WHERE m.enabled${only} ORDER BY f.mailbox_id, f.position`,
        params,
      )) as MailboxFolderRow[];
      return { rows, folders };
    });
  }

  /** One mailbox's spec row without its folders (sending: one statement, not two); null when there is no such mailbox. */
  async mailboxRow(mailboxId: string): Promise<MailboxSpecRow | null> {
    const [row] = (await this.dataSource.query(`${SPEC_SELECT} WHERE m.id = $1`, [mailboxId])) as MailboxSpecRow[];
    return row ?? null;
  }

  /** One mailbox's spec row, enabled or not (reading a message on the API's behalf); null when there is no such mailbox. */
  async mailbox(mailboxId: string): Promise<{ row: MailboxSpecRow; folders: MailboxFolderRow[] } | null> {
    const [row] = (await this.dataSource.query(`${SPEC_SELECT} WHERE m.id = $1`, [mailboxId])) as MailboxSpecRow[];
    if (!row) return null;
    const folders = (await this.dataSource.query(`SELECT id, mailbox_id, path FROM mailbox_folders WHERE mailbox_id = $1 ORDER BY position`, [mailboxId])) as MailboxFolderRow[];
    return { row, folders };
  }

  /**
   * A cheap summary of everything the specs depend on. The supervisor reloads the full list only when
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

  /** Which of `mailboxIds` still exist (the others were deleted). */
  async existing(mailboxIds: string[]): Promise<Set<string>> {
    if (mailboxIds.length === 0) return new Set();
    const rows = (await this.dataSource.query(`SELECT id FROM mailboxes WHERE id = ANY($1::uuid[])`, [mailboxIds])) as Array<{ id: string }>;
    return new Set(rows.map((row) => row.id));
  }

  async disable(mailboxId: string): Promise<void> {
    await this.dataSource.query(`UPDATE mailboxes SET enabled = false, updated_at = now() WHERE id = $1`, [mailboxId]);
  }
}
