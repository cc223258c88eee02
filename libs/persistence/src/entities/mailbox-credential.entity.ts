import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** Basic-auth password of a mailbox, kept apart from the mailbox row so it is never loaded by accident. */
@Entity('mailbox_credentials')
export class MailboxCredentialEntity {
  @PrimaryColumn({ name: 'mailbox_id', type: 'uuid' }) mailboxId: string;
  /** SecretBox ciphertext, context `mailbox:<id>:password`. */
  @Column({ name: 'password_encrypted', type: 'text' }) passwordEncrypted: string;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
