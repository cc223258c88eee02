import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A live Microsoft Graph subscription for one mailbox folder (see the GraphSubscriptions migration). */
@Entity('graph_subscriptions')
export class GraphSubscriptionEntity {
  @PrimaryColumn({ name: 'subscription_id', type: 'text' }) subscriptionId: string;
  @Column({ name: 'folder_id', type: 'uuid' }) folderId: string;
  @Column({ name: 'mailbox_id', type: 'uuid' }) mailboxId: string;
  /** SHA-256 of the clientState sent to Graph; the value itself is never stored. */
  @Column({ name: 'client_state_hash', type: 'bytea' }) clientStateHash: Buffer;
  @Column({ type: 'text' }) resource: string;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt: Date;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'renewed_at', type: 'timestamptz', nullable: true }) renewedAt: Date | null;
  @Column({ name: 'last_notification_at', type: 'timestamptz', nullable: true }) lastNotificationAt: Date | null;
}
