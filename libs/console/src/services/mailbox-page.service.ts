import { Injectable } from '@nestjs/common';
import { ClusterOverviewService, ClusterReplicaResponse } from '@app/cluster';
import { MailboxesService, MailboxResponse, MailboxStatusResponse, MailboxStatusService } from '@app/mailboxes';
import { ProviderResponse, ProvidersService } from '@app/providers';

/** Everything a mailbox's page shows, read fresh each time (the page and its live updates use the same read). */
export interface MailboxPageData {
  mailbox: MailboxResponse;
  status: MailboxStatusResponse;
  provider: Pick<ProviderResponse, 'id' | 'name' | 'type' | 'authMethod'>;
  /** The replica named as owner by the status, as GET /v1/cluster lists it (null: no owner, or it is not live). */
  ownerReplica: ClusterReplicaResponse | null;
}

/** GET /v1/mailboxes/:id, its /status, its mail service and its owner's row of GET /v1/cluster, through the API's own services. */
@Injectable()
export class MailboxPageService {
  constructor(
    private readonly mailboxes: MailboxesService,
    private readonly statuses: MailboxStatusService,
    private readonly providers: ProvidersService,
    private readonly cluster: ClusterOverviewService,
  ) {}

  async read(id: string): Promise<MailboxPageData> {
    const [mailbox, status] = await Promise.all([this.mailboxes.get(id), this.statuses.status(id)]);
    const [provider, ownerReplica] = await Promise.all([this.providers.get(mailbox.providerId), status.owner ? this.cluster.replica(status.owner) : null]);
    return {
      mailbox,
      status,
      provider: { id: provider.id, name: provider.name, type: provider.type, authMethod: provider.authMethod },
      ownerReplica,
    };
  }
}
