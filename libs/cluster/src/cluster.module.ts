import { DynamicModule, Module } from '@nestjs/common';
import { ClusterMetrics } from './cluster.metrics';
import { ReplicaHeartbeat } from './replica-heartbeat';
import { ReplicaRegistry } from './replica-registry';

/**
 * Listener replicas: who is alive. `forReplica()` in the listener also beats and registers the lease
 * counters (ClusterMetrics); the API only reads.
 */
@Module({ providers: [ReplicaRegistry], exports: [ReplicaRegistry] })
export class ClusterModule {
  static forReplica(): DynamicModule {
    return { module: ClusterModule, providers: [ReplicaRegistry, ReplicaHeartbeat, ClusterMetrics], exports: [ReplicaRegistry, ClusterMetrics] };
  }
}
