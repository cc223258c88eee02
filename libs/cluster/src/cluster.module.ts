import { DynamicModule, Module } from '@nestjs/common';
import { ClusterMetrics } from './cluster.metrics';
import { LeaseKeeper } from './leases/lease-keeper';
import { MailboxLeaseRepository } from './leases/mailbox-lease.repository';
import { ReplicaHeartbeat } from './replica-heartbeat';
import { ReplicaRegistry } from './replica-registry';

/**
 * Listener replicas: who is alive and who holds which mailbox. `forReplica()` in the listener also beats,
 * keeps leases (LeaseKeeper) and registers the lease counters (ClusterMetrics); the API only reads. The
 * listener's module is global: the mailbox supervisor (SyncModule) runs the lease rounds and every runner
 * counts its fenced writes.
 */
@Module({ providers: [ReplicaRegistry], exports: [ReplicaRegistry] })
export class ClusterModule {
  static forReplica(): DynamicModule {
    return {
      module: ClusterModule,
      global: true,
      providers: [ReplicaRegistry, ReplicaHeartbeat, ClusterMetrics, MailboxLeaseRepository, LeaseKeeper],
      exports: [ReplicaRegistry, ClusterMetrics, MailboxLeaseRepository, LeaseKeeper],
    };
  }
}
