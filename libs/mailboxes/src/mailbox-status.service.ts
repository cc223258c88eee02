import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { findMailboxToken, tokenStatusOf } from '@app/oauth';
import { GraphSubscriptionEntity, MailboxFolderEntity, MailboxStatusEntity, ProviderEntity, SyncCursorEntity } from '@app/persistence';
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
  ) {}

  async status(mailboxId: string): Promise<MailboxStatusResponse> {
    const mailbox = await this.mailboxes.load(mailboxId);
    const provider = await this.dataSource.getRepository(ProviderEntity).findOneByOrFail({ id: mailbox.providerId });
    const graph = provider.type === 'microsoft-graph';
    const [status, token, cursors, subscriptions] = await Promise.all([
      this.dataSource.getRepository(MailboxStatusEntity).findOneBy({ mailboxId }),
      provider.authMethod === 'oauth2' ? findMailboxToken(this.dataSource, mailbox, provider.oauthAppOnly) : null,
      this.dataSource.getRepository(SyncCursorEntity).findBy({ mailboxId }),
      // Newest expiry first: while one is being replaced a folder briefly has two.
      graph ? this.dataSource.getRepository(GraphSubscriptionEntity).find({ where: { mailboxId }, order: { expiresAt: 'DESC' } }) : [],
    ]);
    const connectionState = !mailbox.enabled ? 'disabled' : (status?.connectionState ?? 'pending');
    const connectionError = status ? errorOf(status.lastErrorCode, status.lastErrorMessage, status.lastErrorAt) : null;
    const tokenStatus = tokenStatusOf(token);

    const folders = [...mailbox.folders].sort((a: MailboxFolderEntity, b: MailboxFolderEntity) => a.position - b.position);
    return {
      mailboxId,
      connection: { state: connectionState, since: (status?.stateSince ?? mailbox.createdAt).toISOString(), lastError: connectionError },
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
      owner: status?.ownerId ?? null,
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
      }),
    };
  }
}
