import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, OneToMany, PrimaryGeneratedColumn, UpdateDateColumn, Relation } from 'typeorm';
import { MailboxFolderEntity } from './mailbox-folder.entity';
import { ProviderEntity } from './provider.entity';

@Entity('mailboxes')
export class MailboxEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  /** Stored lower-case; unique. */
  @Column({ type: 'text', unique: true }) email: string;
  @Column({ name: 'provider_id', type: 'uuid' }) providerId: string;
  @ManyToOne(() => ProviderEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'provider_id' })
  provider: Relation<ProviderEntity>;
  /** The login the listener uses, derived from the provider's login format (or given, for `manual`). */
  @Column({ type: 'text' }) login: string;
  @Column({ name: 'external_id', type: 'text', nullable: true }) externalId: string | null;
  @Column({ type: 'boolean' }) enabled: boolean;
  /** First baseline publishes mail received since then (instead of starting from "now"). */
  @Column({ name: 'backfill_since', type: 'timestamptz', nullable: true }) backfillSince: Date | null;
  @OneToMany(() => MailboxFolderEntity, (folder) => folder.mailbox, { cascade: true }) folders: Relation<MailboxFolderEntity[]>;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
