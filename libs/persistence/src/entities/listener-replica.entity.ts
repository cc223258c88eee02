import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One row per listener replica that has run: its heartbeat tells the API (and, with leases, the other
 * replicas) whether the mailboxes it claims are really being listened to. Written only by the replica
 * itself (libs/cluster's ReplicaRegistry).
 */
@Entity('listener_replicas')
export class ListenerReplicaEntity {
  @PrimaryColumn({ type: 'text' }) id: string;
  /** `live`, or `draining` once it has been told to stop and hands its mailboxes over. */
  @Column({ type: 'text', default: 'live' }) state: 'live' | 'draining';
  @Column({ name: 'started_at', type: 'timestamptz' }) startedAt: Date;
  @Column({ name: 'heartbeat_at', type: 'timestamptz' }) heartbeatAt: Date;
}
