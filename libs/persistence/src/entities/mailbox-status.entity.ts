import { Column, Entity, PrimaryColumn } from 'typeorm';
import { ConnectionState } from './enums';

/**
 * What the listener last reported about a mailbox: connection state and since when, the last error,
 * which replica holds it. The API reads it for `GET /v1/mailboxes/:id/status`.
 */
@Entity('mailbox_status')
export class MailboxStatusEntity {
  @PrimaryColumn({ name: 'mailbox_id', type: 'uuid' }) mailboxId: string;
  @Column({
    name: 'connection_state',
    type: 'enum',
    enumName: 'connection_state',
    enum: ['pending', 'connecting', 'connected', 'backoff', 'auth_error', 'disabled'],
  })
  connectionState: ConnectionState;
  @Column({ name: 'state_since', type: 'timestamptz' }) stateSince: Date;
  @Column({ name: 'last_error_code', type: 'text', nullable: true }) lastErrorCode: string | null;
  @Column({ name: 'last_error_message', type: 'text', nullable: true }) lastErrorMessage: string | null;
  @Column({ name: 'last_error_at', type: 'timestamptz', nullable: true }) lastErrorAt: Date | null;
  @Column({ name: 'owner_id', type: 'text', nullable: true }) ownerId: string | null;
  @Column({ name: 'last_event_at', type: 'timestamptz', nullable: true }) lastEventAt: Date | null;
  @Column({ name: 'last_lag_seconds', type: 'double precision', nullable: true }) lastLagSeconds: number | null;
  /** Grows with every state change; keys the `mailbox.state_changed` event id. */
  @Column({ name: 'state_version', type: 'bigint', default: 0 }) stateVersion: string;
  /** First authentication failure of the current run of failures (null once a login succeeds). */
  @Column({ name: 'auth_failing_since', type: 'timestamptz', nullable: true }) authFailingSince: Date | null;
  /** Set by POST /resync; the owning listener reconnects and catches up, then clears it. */
  @Column({ name: 'resync_requested_at', type: 'timestamptz', nullable: true }) resyncRequestedAt: Date | null;
}
