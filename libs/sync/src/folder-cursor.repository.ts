import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { answeredBy, answersByKey, flightBatcher, SETUP_BATCH_INTERVAL_MS } from '@app/batching';
import { FencedOutError, LeaseFence, leaseHeldSql } from '@app/cluster';
import { FolderCursor } from '@app/imap';

interface BaselineWrite {
  folderId: string;
  mailboxId: string;
  uidValidity: number;
  lastUid: number;
  lease: LeaseFence;
}

interface AdvanceWrite {
  folderId: string;
  uidValidity: number;
  lastUid: number;
  lease: LeaseFence;
}

/**
 * All SQL about per-folder sync positions (`sync_cursors`). Every write carries the writer's lease (owner
 * and epoch, `leaseHeldSql`, checked in the same statement) and is refused (FencedOutError) once another
 * replica holds the mailbox; and within one UIDVALIDITY a cursor only ever moves forward (GREATEST), so a
 * replica that wrote just before losing its lease still cannot move it backwards under the new owner.
 * `fence_epoch` records the epoch of the last write. The IMAP reads and writes made while the previous one ran
 * (thousands of folders opening, a burst of mail) are one statement each; the setup path's (cursor reads, first
 * cursors) also take what arrives in the pause after it (SETUP_BATCH_INTERVAL_MS), cursor advances do not.
 */
@Injectable()
export class FolderCursorRepository {
  private readonly loadOne = flightBatcher<string, FolderCursor>({
    key: (folderId) => folderId,
    minIntervalMs: SETUP_BATCH_INTERVAL_MS,
    run: async (folderIds) => {
      const rows: { folder_id: string; uid_validity: string | null; last_uid: string | null }[] = await this.dataSource.query(
        `SELECT folder_id, uid_validity, last_uid FROM sync_cursors WHERE folder_id = ANY($1::uuid[])`,
        [folderIds],
      );
      return answersByKey(folderIds, rows, (row) => row.folder_id, (row) => ({
        uidValidity: row?.uid_validity ? Number(row.uid_validity) : null,
        lastUid: row?.last_uid ? Number(row.last_uid) : null,
      }));
    },
  });

  private readonly baselineOne = flightBatcher<BaselineWrite, boolean>({
    key: (write) => write.folderId,
    minIntervalMs: SETUP_BATCH_INTERVAL_MS,
    run: async (writes) => {
      // Only rows whose lease holds are proposed at all, so the condition covers the insert and the update.
      // The same UIDVALIDITY again (a takeover racing a first baseline) keeps the furthest cursor.
      const rows: { folder_id: string }[] = await this.dataSource.query(
        `INSERT INTO sync_cursors (folder_id, mailbox_id, uid_validity, last_uid, fence_epoch, last_synced_at, updated_at)
         SELECT v.folder_id, v.mailbox_id, v.uid_validity, v.last_uid, v.epoch, now(), now()
         FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint[]) AS v(folder_id, mailbox_id, uid_validity, last_uid, owner, epoch)
         WHERE ${leaseHeldSql('v.mailbox_id', 'v.owner', 'v.epoch')}
         ON CONFLICT (folder_id) DO UPDATE SET uid_validity = excluded.uid_validity,
           last_uid = CASE WHEN sync_cursors.uid_validity = excluded.uid_validity THEN GREATEST(sync_cursors.last_uid, excluded.last_uid) ELSE excluded.last_uid END,
           fence_epoch = excluded.fence_epoch, last_synced_at = now(), updated_at = now()
         RETURNING folder_id`,
        [
          writes.map((w) => w.folderId),
          writes.map((w) => w.mailboxId),
          writes.map((w) => w.uidValidity),
          writes.map((w) => w.lastUid),
          writes.map((w) => w.lease.owner),
          writes.map((w) => w.lease.epoch),
        ],
      );
      return answeredBy(writes, (w) => w.folderId, rows.map((row) => row.folder_id));
    },
  });

  private readonly advanceOne = flightBatcher<AdvanceWrite, boolean>({
    key: (write) => write.folderId,
    run: async (writes) => {
      const [rows]: [{ folder_id: string }[], number] = await this.dataSource.query(
        `UPDATE sync_cursors c SET last_uid = GREATEST(c.last_uid, v.last_uid), fence_epoch = v.epoch, last_synced_at = now(), updated_at = now()
         FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[]) AS v(folder_id, uid_validity, last_uid, owner, epoch)
         WHERE c.folder_id = v.folder_id AND c.uid_validity = v.uid_validity AND ${leaseHeldSql('c.mailbox_id', 'v.owner', 'v.epoch')}
         RETURNING c.folder_id`,
        [writes.map((w) => w.folderId), writes.map((w) => w.uidValidity), writes.map((w) => w.lastUid), writes.map((w) => w.lease.owner), writes.map((w) => w.lease.epoch)],
      );
      return answeredBy(writes, (w) => w.folderId, rows.map((row) => row.folder_id));
    },
  });

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  load(folderId: string): Promise<FolderCursor> {
    return this.loadOne(folderId);
  }

  /** Sets a new starting point (first subscription, or UIDVALIDITY changed). */
  async baseline(folderId: string, mailboxId: string, uidValidity: number, lastUid: number, lease: LeaseFence): Promise<void> {
    if (!(await this.baselineOne({ folderId, mailboxId, uidValidity, lastUid, lease }))) throw new FencedOutError(`Cursor baseline of folder ${folderId}`, lease);
  }

  /** Moves the cursor to `lastUid` if that is forward; a cursor already further on stays. */
  async advance(folderId: string, uidValidity: number, lastUid: number, lease: LeaseFence): Promise<void> {
    if (await this.advanceOne({ folderId, uidValidity, lastUid, lease })) return;
    // Not moved: the lease is no longer ours (fenced out), or the folder has another UIDVALIDITY by now.
    const current = await this.load(folderId);
    if (current.uidValidity === uidValidity) throw new FencedOutError(`Cursor write of folder ${folderId}`, lease);
  }

  /** Graph: the folder's id at Graph, its stored delta link, when the last delta round finished, and the pending baseline. */
  async loadGraph(folderId: string): Promise<GraphFolderCursor> {
    const [row]: { remote_folder_id: string | null; delta_link: string | null; last_synced_at: Date | null; baseline_at: Date | null }[] = await this.dataSource.query(
      `SELECT remote_folder_id, delta_link, last_synced_at, baseline_at FROM sync_cursors WHERE folder_id = $1`,
      [folderId],
    );
    return {
      remoteFolderId: row?.remote_folder_id ?? null,
      deltaLink: row?.delta_link ?? null,
      lastSyncedAt: row?.last_synced_at ?? null,
      baselineAt: row?.baseline_at ?? null,
    };
  }

  /**
   * Graph: stores where the folder stands. With a delta link (a round finished at `syncedAt`): the link,
   * and the baseline is done. Without one (opening, before the first round): the folder id and mode, and
   * `baselineAt` unless one is already stored (a retry keeps the first attempt's instant).
   */
  async saveGraph(
    folderId: string,
    mailboxId: string,
    cursor: { remoteFolderId: string; deltaLink: string | null; mode: GraphSyncMode; baselineAt?: Date | null; syncedAt?: Date },
    lease: LeaseFence,
  ): Promise<void> {
    // The row is proposed only while the lease holds, so the condition covers the insert and the update.
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO sync_cursors (folder_id, mailbox_id, remote_folder_id, delta_link, sync_mode, baseline_at, fence_epoch, last_synced_at, updated_at)
       SELECT $1::uuid, $2::uuid, $3::text, $4::text, $5::text, CASE WHEN $4::text IS NULL THEN $7::timestamptz END, $6::bigint,
              CASE WHEN $4::text IS NOT NULL THEN $8::timestamptz END, now()
        WHERE ${leaseHeldSql('$2::uuid', '$9::text', '$6::bigint')}
       ON CONFLICT (folder_id) DO UPDATE SET remote_folder_id = $3, delta_link = COALESCE($4, sync_cursors.delta_link), sync_mode = $5,
         baseline_at = CASE WHEN $4::text IS NULL THEN COALESCE(sync_cursors.baseline_at, $7::timestamptz) END,
         fence_epoch = $6, last_synced_at = CASE WHEN $4::text IS NULL THEN sync_cursors.last_synced_at ELSE $8::timestamptz END, updated_at = now()
       RETURNING folder_id`,
      [folderId, mailboxId, cursor.remoteFolderId, cursor.deltaLink, cursor.mode, lease.epoch, cursor.baselineAt ?? null, cursor.syncedAt ?? new Date(), lease.owner],
    );
    if (rows.length === 0) throw new FencedOutError(`Graph cursor write of folder ${folderId}`, lease);
  }

  /** Graph: forgets a delta link Graph no longer knows (410); the next rounds start a new baseline at `baselineAt`. */
  async clearDeltaLink(folderId: string, lease: LeaseFence, baselineAt: Date): Promise<void> {
    const [, count]: [unknown, number] = await this.dataSource.query(
      `UPDATE sync_cursors SET delta_link = NULL, baseline_at = $4, fence_epoch = $3, updated_at = now()
        WHERE folder_id = $1 AND ${leaseHeldSql('sync_cursors.mailbox_id', '$2::text', '$3::bigint')}`,
      [folderId, lease.owner, lease.epoch, baselineAt],
    );
    if (count === 0) throw new FencedOutError(`Graph cursor reset of folder ${folderId}`, lease);
  }
}

export type GraphSyncMode = 'push' | 'polling';

export interface GraphFolderCursor {
  remoteFolderId: string | null;
  deltaLink: string | null;
  lastSyncedAt: Date | null;
  /** Set while no delta link is stored: the next round is a baseline of mail received since then. */
  baselineAt: Date | null;
}
