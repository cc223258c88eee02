import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * An event waiting to be published on `mail-events`, written with the row change it reports (see the
 * EventOutbox migration). Written by the status repository and the token refresher, read and deleted
 * only by libs/events' EventOutboxRelay once BullMQ has the job.
 */
@Entity('event_outbox')
export class EventOutboxEntity {
  /** Publishing order. */
  @PrimaryGeneratedColumn({ type: 'bigint' }) seq: string;
  /** The event's deterministic id, also its BullMQ job id. */
  @Column({ name: 'event_id', type: 'text', unique: true }) eventId: string;
  @Column({ type: 'text' }) type: string;
  /** The event as published (json keeps its field order). */
  @Column({ type: 'json' }) payload: Record<string, unknown>;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
}
