import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { FailureCode, failureCodeDescription } from '@app/failures';
import { CONNECTION_STATES, ConnectionState, TOKEN_STATES, TokenState } from '@app/persistence';

export class StatusErrorResponse {
  @ApiProperty({ description: failureCodeDescription(), example: FailureCode.AuthenticationFailed }) code: string;
  @ApiProperty() message: string;
  @ApiProperty() at: string;
}

export class ConnectionStatusResponse {
  @ApiProperty({ enum: CONNECTION_STATES }) state: ConnectionState;
  @ApiProperty() since: string;
  @ApiPropertyOptional({ type: StatusErrorResponse, nullable: true }) lastError: StatusErrorResponse | null;
}

export class PendingAuthorizationResponse {
  @ApiPropertyOptional() userCode?: string;
  @ApiPropertyOptional() verificationUri?: string;
  @ApiPropertyOptional() expiresAt?: string;
}

export class TokenStatusResponse {
  @ApiProperty({ enum: TOKEN_STATES }) state: TokenState;
  @ApiProperty({ nullable: true, type: String }) expiresAt: string | null;
  @ApiProperty({ nullable: true, type: String }) lastRefreshAt: string | null;
  @ApiPropertyOptional({ type: StatusErrorResponse, nullable: true }) lastError: StatusErrorResponse | null;
  @ApiPropertyOptional({ type: PendingAuthorizationResponse, nullable: true }) pendingAuthorization: PendingAuthorizationResponse | null;
  @ApiProperty({ nullable: true, type: String, description: 'The account that signed in (its username at the identity provider); null before a sign-in, after Delete, and for app-only tokens' })
  account: string | null;
}

export const FOLDER_SYNC_MODES = ['idle', 'push', 'polling'] as const;
export type FolderSyncMode = (typeof FOLDER_SYNC_MODES)[number];

export class FolderSyncResponse {
  @ApiProperty() name: string;
  @ApiProperty({
    enum: FOLDER_SYNC_MODES,
    nullable: true,
    description:
      'How the folder is followed: `idle` (IMAP IDLE), `push` (Microsoft Graph change notifications), `polling` (Graph delta on a timer: the listener has no PUBLIC_BASE_URL); null until a listener opened a Graph folder',
  })
  mode: FolderSyncMode | null;
  @ApiProperty({ nullable: true, type: Number, description: 'IMAP only' }) uidValidity: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'IMAP only' }) lastUid: number | null;
  @ApiProperty({ nullable: true, type: String, description: 'When the folder was last known in sync (IMAP: last catch-up or delivery; Graph: last delta round)' })
  lastSyncedAt: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Graph only: the live change-notification subscription' }) subscriptionId: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Graph only: when that subscription expires unless renewed' }) subscriptionExpiresAt: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Graph only: when a notification for this folder last reached the listener' }) lastNotificationAt: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Graph only: when the last delta round finished' }) lastDeltaAt: string | null;
}

export class SyncStatusResponse {
  @ApiProperty({ nullable: true, type: String }) lastEventAt: string | null;
  @ApiProperty({ nullable: true, type: Number }) lagSeconds: number | null;
  @ApiProperty({ type: [FolderSyncResponse] }) folders: FolderSyncResponse[];
}

export class SendingStatusResponse {
  @ApiPropertyOptional({
    type: StatusErrorResponse,
    nullable: true,
    description:
      'Why the mailbox cannot send, while it cannot: a refused SMTP login (SMTP_AUTH_FAILED), a server certificate that fails (SMTP_TLS), a server address the outbound policy refuses; null once a message is sent again. Failures of one message (a 550 for a recipient) are in that send only',
  })
  lastError: StatusErrorResponse | null;
}

export class MailboxStatusResponse {
  @ApiProperty({ format: 'uuid' }) mailboxId: string;
  @ApiProperty({ type: ConnectionStatusResponse }) connection: ConnectionStatusResponse;
  @ApiPropertyOptional({ type: TokenStatusResponse, nullable: true, description: 'null for password mailboxes' }) token: TokenStatusResponse | null;
  @ApiProperty({ type: SyncStatusResponse }) sync: SyncStatusResponse;
  @ApiProperty({ type: SendingStatusResponse, description: 'Sending (POST …/outbox), apart from the connection: IMAP may log in while SMTP refuses' }) sending: SendingStatusResponse;
  @ApiProperty({ nullable: true, type: String, description: 'Listener replica holding the mailbox' }) owner: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'What a human should do, if anything' }) recommendedAction: string | null;
}
