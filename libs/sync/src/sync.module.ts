import { Module } from '@nestjs/common';
import { EventsModule } from '@app/events';
import { MailboxStateModule } from '@app/mailbox-state';
import { OutboundModule } from '@app/outbound';
import { FolderCursorRepository } from './folder-cursor.repository';
import { GraphNotificationForwarder } from './graph/graph-notification.forwarder';
import { GraphNotificationWorker } from './graph/graph-notification.worker';
import { GraphSubscriptionRepository } from './graph/graph-subscription.repository';
import { OwnSentCopyRepository } from './imap/own-sent-copy.repository';
import { MailboxCredentialsModule } from './mailbox-credentials.module';
import { MailboxSpecsLoader } from './mailbox-specs.loader';
import { MailboxStateReporter } from './mailbox-state.reporter';
import { MailboxSupervisor } from './mailbox.supervisor';
import { MailboxControlHandler } from './mailbox-control.handler';
import { SyncMetricsRepository } from './sync-metrics.repository';
import { SyncMetrics } from './sync.metrics';

/**
 * The listener's mailbox work: which mailboxes run, their IMAP sessions or Graph subscriptions and delta
 * rounds, cursors, state and metrics. Needs OAuthRefreshModule.
 */
@Module({
  imports: [EventsModule, MailboxStateModule, OutboundModule, MailboxCredentialsModule],
  providers: [
    FolderCursorRepository,
    MailboxSpecsLoader,
    MailboxStateReporter,
    SyncMetricsRepository,
    SyncMetrics,
    GraphSubscriptionRepository,
    MailboxSupervisor,
    MailboxControlHandler,
    GraphNotificationForwarder,
    GraphNotificationWorker,
    OwnSentCopyRepository,
  ],
  exports: [MailboxSupervisor, MailboxControlHandler, MailboxStateReporter, FolderCursorRepository],
})
export class SyncModule {}
