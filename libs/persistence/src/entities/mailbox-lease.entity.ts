import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Which listener replica holds a mailbox, under which epoch (see the MailboxLeases migration). Written
 * only through libs/cluster's MailboxLeaseRepository.
 */
@Entity('mailbox_leases')
export class MailboxLeaseEntity {
  @PrimaryColumn({ name: 'mailbox_id', type: 'uuid' }) mailboxId: string;
  @Column({ name: 'owner_id', type: 'text', nullable: true }) ownerId: string | null;
  /** Grows with every acquisition; every fenced write names the epoch it holds. */
  @Column({ type: 'bigint', default: 0 }) epoch: string;
  @Column({ name: 'acquired_at', type: 'timestamptz', nullable: true }) acquiredAt: Date | null;
  /** A live replica that asked for the mailbox; the owner grants it after its last write. */
  @Column({ name: 'handover_to', type: 'text', nullable: true }) handoverTo: string | null;
}
