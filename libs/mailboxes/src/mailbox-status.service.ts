import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isReplicaAlive, ReplicaRegistry } from '@app/cluster';
import { APP_CONFIG, AppConfig } from '@app/config';
import { FailureCode } from '@app/failures';
import { findMailboxToken, tokenStatusOf } from '@app/oauth';
import { ConnectionState, GraphSubscriptionEntity, MailboxFolderEntity, MailboxSendStatusEntity, MailboxStatusEntity, ProviderEntity, SyncCursorEntity } from '@app/persistence';
import { FolderSyncMode, MailboxStatusResponse, StatusErrorResponse } from './dto/mailbox-status.response';
import { MailboxesService } from './mailboxes.service';
import { recommendedAction } from './recommended-action';

function errorOf(code: string | null, message: string | null, at: Date | null): StatusErrorResponse | null {
  return code && at ? { code, message: message ?? code, at: at.toISOString() } : null;
}

function graphModeOf(syncMode: string | null | undefined): FolderSyncMode | null {
  return syncMode === 'push' || syncMode === 'polling' ? syncMode : null;
}

/** Assembles `GET /v1/mailboxes/:id/status` from what the listener and the token service recorded. */
@Injectable()
export class MailboxStatusService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly mailboxes: MailboxesService,
    private readonly replicas: ReplicaRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * What the listener last wrote, unless the replica that wrote it has gone silent: a listener killed
   * with SIGKILL cannot say so, and its last word (`connected`) would stand until another took over.
   * Past the lease time its claim is void: the mailbox is `pending`, with the reason, and has no owner.
   */
  private async connectionOf(mailbox: { enabled: boolean; createdAt: Date }, status: MailboxStatusEntity | null) {
    const state: ConnectionState = !mailbox.enabled ? 'disabled' : (status?.connectionState ?? 'pending');
    const reported = {
      state,
      since: status?.stateSince ?? mailbox.createdAt,
      error: status ? errorOf(status.lastErrorCode, status.lastErrorMessage, status.lastErrorAt) : null,
      owner: status?.ownerId ?? null,
    };
    if (!reported.owner || state === 'disabled' || state === 'pending') return reported;
    const leaseTtlMs = this.config.cluster.leaseTtlMs;
    const replica = (await this.replicas.find([reported.owner])).get(reported.owner);
    if (isReplicaAlive(replica, leaseTtlMs)) return reported;
    const lastHeard = replica?.heartbeatAt ?? reported.since;
    // The claim lapsed one lease time after the last beat (never before the state it voids began).
    const silentSince = new Date(Math.max(lastHeard.getTime() + leaseTtlMs, reported.since.getTime()));
    return {
      state: 'pending' as const,
      since: silentSince,
      error: {
        code: FailureCode.ListenerUnresponsive,
        message: `listener replica ${reported.owner} has not been heard from since ${lastHeard.toISOString()} (lease time ${leaseTtlMs / 1000} s); its last report was ${state}`,
        at: silentSince.toISOString(),
      },
      owner: null,
    };
  }

  async status(mailboxId: string): Promise<MailboxStatusResponse> {
    const mailbox = await this.mailboxes.load(mailboxId);
    const provider = await this.dataSource.getRepository(ProviderEntity).findOneByOrFail({ id: mailbox.providerId });
    const graph = provider.type === 'microsoft-graph';
    const [status, token, cursors, subscriptions, sendStatus] = await Promise.all([
      this.dataSource.getRepository(MailboxStatusEntity).findOneBy({ mailboxId }),
      provider.authMethod === 'oauth2' ? findMailboxToken(this.dataSource, mailbox, provider.oauthAppOnly) : null,
      this.dataSource.getRepository(SyncCursorEntity).findBy({ mailboxId }),
      // Newest expiry first: while one is being replaced a folder briefly has two.
      graph ? this.dataSource.getRepository(GraphSubscriptionEntity).find({ where: { mailboxId }, order: { expiresAt: 'DESC' } }) : [],
      this.dataSource.getRepository(MailboxSendStatusEntity).findOneBy({ mailboxId }),
    ]);
    const sendError = sendStatus ? errorOf(sendStatus.lastErrorCode, sendStatus.lastErrorMessage, sendStatus.lastErrorAt) : null;
    const connection = await this.connectionOf(mailbox, status);
    const { state: connectionState, error: connectionError } = connection;
    const tokenStatus = tokenStatusOf(token);

    const folders = [...mailbox.folders].sort((a: MailboxFolderEntity, b: MailboxFolderEntity) => a.position - b.position);
    return {
      mailboxId,
      connection: { state: connectionState, since: connection.since.toISOString(), lastError: connectionError },
      token:
        provider.authMethod === 'oauth2'
          ? tokenStatus
          : null,
      sync: {
        lastEventAt: status?.lastEventAt?.toISOString() ?? null,
        lagSeconds: status?.lastLagSeconds ?? null,
        folders: folders.map((folder) => {
          const cursor = cursors.find((c) => c.folderId === folder.id);
          const subscription = subscriptions.find((s) => s.folderId === folder.id);
          return {
            name: folder.path,
            mode: graph ? graphModeOf(cursor?.syncMode) : 'idle',
            uidValidity: cursor?.uidValidity ? Number(cursor.uidValidity) : null,
            lastUid: cursor?.lastUid ? Number(cursor.lastUid) : null,
            lastSyncedAt: cursor?.lastSyncedAt?.toISOString() ?? null,
            subscriptionId: subscription?.subscriptionId ?? null,
            subscriptionExpiresAt: subscription?.expiresAt.toISOString() ?? null,
            lastNotificationAt: subscription?.lastNotificationAt?.toISOString() ?? null,
            lastDeltaAt: graph ? (cursor?.lastSyncedAt?.toISOString() ?? null) : null,
          };
        }),
      },
      sending: { lastError: sendError },
      owner: connection.owner,
      recommendedAction: recommendedAction({
        enabled: mailbox.enabled,
        connectionState,
        connectionError,
        authMethod: provider.authMethod,
        tokenState: provider.authMethod === 'oauth2' ? (token?.state ?? 'not_obtained') : null,
        tokenError: tokenStatus.lastError,
        pendingAuthorization: tokenStatus.pendingAuthorization,
        appOnly: provider.oauthAppOnly,
        polling: graph && cursors.some((cursor) => cursor.syncMode === 'polling'),
        // The listener's rule (MailboxSpecRepository.enabledSpecs) for which providers' mailboxes it runs.
        providerNotLoading: provider.loadEmails && (graph || provider.host) ? null : provider.name,
        sendError,
      }),
    };
  }
}
