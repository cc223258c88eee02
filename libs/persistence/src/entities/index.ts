import { EventOutboxEntity } from './event-outbox.entity';
import { GraphSubscriptionEntity } from './graph-subscription.entity';
import { ListenerReplicaEntity } from './listener-replica.entity';
import { MailboxLeaseEntity } from './mailbox-lease.entity';
import { MailboxCredentialEntity } from './mailbox-credential.entity';
import { MailboxFolderEntity } from './mailbox-folder.entity';
import { MailboxSendStatusEntity } from './mailbox-send-status.entity';
import { MailboxStatusEntity } from './mailbox-status.entity';
import { MailboxEntity } from './mailbox.entity';
import { OAuthTokenEntity } from './oauth-token.entity';
import { ProviderDomainEntity } from './provider-domain.entity';
import { ProviderEntity } from './provider.entity';
import { SyncCursorEntity } from './sync-cursor.entity';

export * from './enums';
export {
  EventOutboxEntity,
  GraphSubscriptionEntity,
  ListenerReplicaEntity,
  MailboxCredentialEntity,
  MailboxEntity,
  MailboxLeaseEntity,
  MailboxFolderEntity,
  MailboxSendStatusEntity,
  MailboxStatusEntity,
  OAuthTokenEntity,
  ProviderDomainEntity,
  ProviderEntity,
  SyncCursorEntity,
};

export const ENTITIES = [
  ProviderEntity,
  ProviderDomainEntity,
  MailboxEntity,
  MailboxFolderEntity,
  MailboxCredentialEntity,
  OAuthTokenEntity,
  SyncCursorEntity,
  MailboxStatusEntity,
  GraphSubscriptionEntity,
  ListenerReplicaEntity,
  MailboxLeaseEntity,
  EventOutboxEntity,
  MailboxSendStatusEntity,
];
