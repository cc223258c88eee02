import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { EventOutboxModule } from '@app/events';
import { OutboundModule } from '@app/outbound';
import { MailboxCredentialsModule } from '@app/sync';
import { OutboxRepository } from './outbox.repository';
import { SendQueue } from './queue/send-queue';
import { SendWorker } from './queue/send.worker';
import { SendProcessor } from './send.processor';
import { SendMetrics } from './send.metrics';
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
      providers: [OutboxRepository, SendQueue, SendMetrics, SendProcessor, SendWorker, SendPruner],
      exports: [SendWorker],
    };
  }
}
