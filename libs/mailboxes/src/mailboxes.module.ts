import { Module } from '@nestjs/common';
import { ClusterModule } from '@app/cluster';
import { ProvidersModule } from '@app/providers';
import { MailboxStatusService } from './mailbox-status.service';
import { MailboxesService } from './mailboxes.service';

@Module({ imports: [ProvidersModule, ClusterModule], providers: [MailboxesService, MailboxStatusService], exports: [MailboxesService, MailboxStatusService] })
export class MailboxesModule {}
