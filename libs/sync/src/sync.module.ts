import { Module } from '@nestjs/common';
import { EventsModule } from '@app/events';
import { OutboundModule } from '@app/outbound';
import { FolderCursorStore } from './folder-cursor.store';
import { GraphNotificationWorker } from './graph/graph-notification.worker';
import { GraphSubscriptionStore } from './graph/graph-subscription.store';
import { MailboxCredentials } from './mailbox-credentials';
import { MailboxSpecsLoader } from './mailbox-specs.loader';
import { MailboxStateReporter } from './mailbox-state.reporter';
import { MailboxSupervisor } from './mailbox.supervisor';
import { SyncMetrics } from './sync.metrics';

/**
 * The listener's mailbox work: which mailboxes run, their IMAP sessions or Graph subscriptions and delta
 * rounds, cursors, state and metrics. Needs OAuthRefreshModule.
 */
@Module({
  imports: [EventsModule, OutboundModule],
  providers: [
    FolderCursorStore,
    MailboxCredentials,
    MailboxSpecsLoader,
    MailboxStateReporter,
    SyncMetrics,
    GraphSubscriptionStore,
    MailboxSupervisor,
    GraphNotificationWorker,
  ],
  exports: [MailboxSupervisor, MailboxStateReporter, FolderCursorStore],
})
export class SyncModule {}
