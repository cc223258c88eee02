import { DynamicModule, Module } from '@nestjs/common';
import { ReplicaHeartbeat } from './replica-heartbeat';
import { ReplicaRegistry } from './replica-registry';

/** Listener replicas: who is alive. `forReplica()` in the listener also beats; the API only reads. */
@Module({ providers: [ReplicaRegistry], exports: [ReplicaRegistry] })
export class ClusterModule {
  static forReplica(): DynamicModule {
    return { module: ClusterModule, providers: [ReplicaRegistry, ReplicaHeartbeat], exports: [ReplicaRegistry] };
  }
}
