import { ReplicaHeartbeatRow } from './replica-registry';

/**
 * Whether a replica still counts as holding what it claims. A replica not heard from for the lease time
 * is dead (CLUSTER_LEASE_TTL_MS); one with no row at all never announced itself, which is no better.
 */
export function isReplicaAlive(replica: ReplicaHeartbeatRow | undefined, leaseTtlMs: number): boolean {
  return replica !== undefined && replica.silentMs <= leaseTtlMs;
}
