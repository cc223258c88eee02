import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ClusterOverviewRepository, LiveReplicaRow } from './cluster-overview.repository';
import { ClusterReplicaResponse, ClusterResponse } from './cluster-overview.response';

/** `GET /v1/cluster`: the live listener replicas, what each holds, and how many mailboxes nobody does. */
@Injectable()
export class ClusterOverviewService {
  constructor(
    private readonly repository: ClusterOverviewRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async overview(): Promise<ClusterResponse> {
    const { replicas, total } = await this.repository.overview(this.config.cluster.leaseTtlMs);
    const owned = replicas.reduce((sum, replica) => sum + replica.mailboxes, 0);
    return { replicas: replicas.map(replicaResponseOf), mailboxes: { total, owned, unowned: total - owned } };
  }

  /** One replica as `overview` lists it, or null when it is not live. */
  async replica(id: string): Promise<ClusterReplicaResponse | null> {
    const replica = await this.repository.replica(id, this.config.cluster.leaseTtlMs);
    return replica ? replicaResponseOf(replica) : null;
  }
}

const replicaResponseOf = (replica: LiveReplicaRow): ClusterReplicaResponse => ({
  id: replica.id,
  state: replica.state,
  startedAt: replica.startedAt.toISOString(),
  heartbeatAt: replica.heartbeatAt.toISOString(),
  mailboxes: replica.mailboxes,
});
