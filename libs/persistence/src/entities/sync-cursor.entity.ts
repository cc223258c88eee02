import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * Where the listener stands in one folder. IMAP: uidValidity + lastUid (+ highestModseq where offered).
 * Graph: the delta link. Every write is fenced by the mailbox's lease (owner and epoch, see
 * FolderCursorRepository); `fenceEpoch` records the lease epoch of the last writer.
 */
@Entity('sync_cursors')
export class SyncCursorEntity {
  @PrimaryColumn({ name: 'folder_id', type: 'uuid' }) folderId: string;
  @Column({ name: 'mailbox_id', type: 'uuid' }) mailboxId: string;
  @Column({ name: 'uid_validity', type: 'bigint', nullable: true }) uidValidity: string | null;
  @Column({ name: 'last_uid', type: 'bigint', nullable: true }) lastUid: string | null;
  @Column({ name: 'highest_modseq', type: 'numeric', nullable: true }) highestModseq: string | null;
  @Column({ name: 'delta_link', type: 'text', nullable: true }) deltaLink: string | null;
  /** Graph: the folder's id at Graph (a well-known name such as `inbox` is resolved once). */
  @Column({ name: 'remote_folder_id', type: 'text', nullable: true }) remoteFolderId: string | null;
  /** How the folder is followed: `idle` (IMAP), `push` (Graph notifications) or `polling` (Graph without PUBLIC_BASE_URL). */
  @Column({ name: 'sync_mode', type: 'text', nullable: true }) syncMode: string | null;
  /** Graph: where the baseline starts (received since) until the first delta round stores a link. */
  @Column({ name: 'baseline_at', type: 'timestamptz', nullable: true }) baselineAt: Date | null;
  @Column({ name: 'fence_epoch', type: 'bigint', default: 0 }) fenceEpoch: string;
  @Column({ name: 'last_synced_at', type: 'timestamptz', nullable: true }) lastSyncedAt: Date | null;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
