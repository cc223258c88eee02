import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { EventOutboxModule } from '@app/events';
import { OutboundModule } from '@app/outbound';
import { MailboxCredentialsModule } from '@app/sync';
import { MailboxSendStatusRepository } from './mailbox-send-status.repository';
import { OutboxRepository } from './outbox.repository';
import { SendQueue } from './queue/send-queue';
import { SendWorker } from './queue/send.worker';
import { GraphSendTransport } from './graph/graph-send.transport';
import { SendProcessor } from './send.processor';
import { SendMetrics } from './send.metrics';
import { SentCopier } from './sent-copy/sent-copier';
import { SentCopyMetrics } from './sent-copy/sent-copy.metrics';
import { SentCopyRepository } from './sent-copy/sent-copy.repository';
import { SentCopySweeper } from './sent-copy/sent-copy.sweeper';
import { SentFolderOutcome } from './sent-copy/sent-folder.outcome';
import { SentFolderSessions } from './sent-copy/sent-folder.sessions';
import { SmtpSessions } from './smtp/smtp-sessions.provider';
import { SendPruner } from './send-pruner';

/**
 * The `mail-send` worker, for any app to host. The listener hosts it (SEND_WORKER=on by default), as it
 * hosts webhook delivery: the scalable worker processes, already running everywhere the service runs.
 * Needs OAuthRefreshModule (token refresh for XOAUTH2).
 */
@Module({})
export class SendWorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    if (!config.sending.worker) return { module: SendWorkerModule };
    return {
      module: SendWorkerModule,
      // The listener's own MailboxCredentials (one per process), not a second copy of it.
      imports: [EventOutboxModule, OutboundModule, MailboxCredentialsModule],
      providers: [
        OutboxRepository,
        MailboxSendStatusRepository,
        SendQueue,
        SendMetrics,
        SmtpSessions,
        GraphSendTransport,
        SendProcessor,
        SendWorker,
        SendPruner,
        // The Sent copy and the Sent-folder look-up of an interrupted attempt (sent-copy/).
        SentCopyRepository,
        SentCopyMetrics,
        SentFolderSessions,
        SentCopier,
        SentCopySweeper,
        SentFolderOutcome,
      ],
      exports: [SendWorker],
    };
  }
}
