import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique, Relation } from 'typeorm';
import { MailboxEntity } from './mailbox.entity';

/** A folder the listener follows (IMAP path such as `INBOX`, or a Graph well-known name / folder id). */
@Entity('mailbox_folders')
@Unique('uq_mailbox_folders_mailbox_path', ['mailboxId', 'path'])
export class MailboxFolderEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'mailbox_id', type: 'uuid' }) mailboxId: string;
  @ManyToOne(() => MailboxEntity, (mailbox) => mailbox.folders, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'mailbox_id' })
  mailbox: Relation<MailboxEntity>;
  @Column({ type: 'text' }) path: string;
  @Column({ type: 'integer' }) position: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
