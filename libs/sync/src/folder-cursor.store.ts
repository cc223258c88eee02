import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { FolderCursor } from '@app/imap';

/** A cursor write refused because a newer lease epoch owns the mailbox (another replica took over). */
export class FencedOutError extends Error {
  readonly code = 'FENCED_OUT';

  constructor(folderId: string, epoch: number) {
    super(`Cursor of folder ${folderId} belongs to a newer lease than epoch ${epoch}`);
    this.name = 'FencedOutError';
  }
}

/**
 * Per-folder sync positions in Postgres. Writes only ever move a cursor forward, and only for the
 * current lease epoch (`fence_epoch`), so a paused replica cannot move it backwards after a takeover.
 */
@Injectable()
export class FolderCursorStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async load(folderId: string): Promise<FolderCursor> {
    const [row]: { uid_validity: string | null; last_uid: string | null }[] = await this.dataSource.query(
      `SELECT uid_validity, last_uid FROM sync_cursors WHERE folder_id = $1`,
      [folderId],
    );
    return { uidValidity: row?.uid_validity ? Number(row.uid_validity) : null, lastUid: row?.last_uid ? Number(row.last_uid) : null };
  }

  /** Sets a new starting point (first subscription, or UIDVALIDITY changed). */
  async baseline(folderId: string, mailboxId: string, uidValidity: number, lastUid: number, epoch: number): Promise<void> {
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO sync_cursors (folder_id, mailbox_id, uid_validity, last_uid, fence_epoch, last_synced_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, now(), now())
       ON CONFLICT (folder_id) DO UPDATE SET uid_validity = $3, last_uid = $4, fence_epoch = $5, last_synced_at = now(), updated_at = now()
       WHERE sync_cursors.fence_epoch <= $5
       RETURNING folder_id`,
      [folderId, mailboxId, uidValidity, lastUid, epoch],
    );
    if (rows.length === 0) throw new FencedOutError(folderId, epoch);
  }

  /** Moves the cursor to `lastUid` if that is forward; a cursor already further on stays. */
  async advance(folderId: string, uidValidity: number, lastUid: number, epoch: number): Promise<void> {
    const [rows]: [unknown[], number] = await this.dataSource.query(
      `UPDATE sync_cursors SET last_uid = GREATEST(last_uid, $3), fence_epoch = $4, last_synced_at = now(), updated_at = now()
       WHERE folder_id = $1 AND uid_validity = $2 AND fence_epoch <= $4
       RETURNING folder_id`,
      [folderId, uidValidity, lastUid, epoch],
    );
    if (rows.length === 0) {
      const current = await this.load(folderId);
      if (current.uidValidity === uidValidity) throw new FencedOutError(folderId, epoch);
    }
  }
}
