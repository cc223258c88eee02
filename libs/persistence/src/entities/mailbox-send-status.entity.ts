import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Why a mailbox cannot send, while it cannot (written by the send worker, deleted by its next successful
 * send). The API shows it as `sending.lastError` in `GET /v1/mailboxes/:id/status`.
 */
@Entity('mailbox_send_status')
export class MailboxSendStatusEntity {
  @PrimaryColumn({ name: 'mailbox_id', type: 'uuid' }) mailboxId: string;
  @Column({ name: 'last_error_code', type: 'text' }) lastErrorCode: string;
  @Column({ name: 'last_error_message', type: 'text' }) lastErrorMessage: string;
  @Column({ name: 'last_error_at', type: 'timestamptz' }) lastErrorAt: Date;
}
