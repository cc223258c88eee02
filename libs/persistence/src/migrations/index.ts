import { InitialSchema1763700000000 } from './1763700000000-initial-schema';
import { OAuthLifecycle1763800000000 } from './1763800000000-oauth-lifecycle';
import { MailboxRuntime1763900000000 } from './1763900000000-mailbox-runtime';
import { GraphSubscriptions1764000000000 } from './1764000000000-graph-subscriptions';
import { ListenerReplicas1764100000000 } from './1764100000000-listener-replicas';
import { MailboxLeases1764300000000 } from './1764300000000-mailbox-leases';
import { EventOutbox1764400000000 } from './1764400000000-event-outbox';
import { LeaseHandoverIndex1764500000000 } from './1764500000000-lease-handover-index';
import { Webhooks1764600000000 } from './1764600000000-webhooks';
import { ProviderSending1764850000000 } from './1764850000000-provider-sending';
import { MailSends1764860000000 } from './1764860000000-mail-sends';
import { SentCopies1764920000000 } from './1764920000000-sent-copies';
import { MailboxSendStatus1764930000000 } from './1764930000000-mailbox-send-status';
import { SendContentChunks1764940000000 } from './1764940000000-send-content-chunks';

/** Every migration in order. Add new ones at the end; never edit one that has shipped. */
export const MIGRATIONS = [
  InitialSchema1763700000000,
  OAuthLifecycle1763800000000,
  MailboxRuntime1763900000000,
  GraphSubscriptions1764000000000,
  ListenerReplicas1764100000000,
  MailboxLeases1764300000000,
  EventOutbox1764400000000,
  LeaseHandoverIndex1764500000000,
  Webhooks1764600000000,
  ProviderSending1764850000000,
  MailSends1764860000000,
  SentCopies1764920000000,
  MailboxSendStatus1764930000000,
  SendContentChunks1764940000000,
];
