import { ApiProperty } from '@nestjs/swagger';
import { REPLICA_STATES, ReplicaState } from '../replica-state';

export class ClusterReplicaResponse {
  @ApiProperty({ example: 'listener-7f9c', description: 'The replica id (LISTENER_ID, default host name and process id); a mailbox status names it as owner' })
  id: string;
  @ApiProperty({ enum: REPLICA_STATES, description: '`draining` after SIGTERM, while it hands its mailboxes over' })
  state: ReplicaState;
  @ApiProperty({ format: 'date-time' }) startedAt: string;
  @ApiProperty({ format: 'date-time', description: 'Its last heartbeat (every CLUSTER_HEARTBEAT_MS)' })
  heartbeatAt: string;
  @ApiProperty({ example: 1000, description: 'Enabled mailboxes it holds' })
  mailboxes: number;
}

export class ClusterMailboxCountsResponse {
  @ApiProperty({ example: 3000, description: 'Enabled mailboxes' }) total: number;
  @ApiProperty({ example: 3000, description: 'Enabled mailboxes held by a live or draining replica' }) owned: number;
  @ApiProperty({
    example: 0,
    description: 'total - owned: no live replica holds them (none running, a dead owner not yet replaced, or beyond every LISTENER_MAX_MAILBOXES cap)',
  })
  unowned: number;
}

export class ClusterResponse {
  @ApiProperty({
    type: [ClusterReplicaResponse],
    description: `Listener replicas heard from within CLUSTER_LEASE_TTL_MS (by the database's clock), by id; dead ones are not listed`,
  })
  replicas: ClusterReplicaResponse[];
  @ApiProperty({ type: ClusterMailboxCountsResponse }) mailboxes: ClusterMailboxCountsResponse;
}
