import { Module } from '@nestjs/common';
import { ClusterModule } from '@app/cluster';
import { MailboxStateModule } from '@app/mailbox-state';
import { ProvidersModule } from '@app/providers';
import { MailboxStatusService } from './mailbox-status.service';
import { MailboxesService } from './mailboxes.service';

@Module({ imports: [ProvidersModule, ClusterModule, MailboxStateModule], providers: [MailboxesService, MailboxStatusService], exports: [MailboxesService, MailboxStatusService] })
export class MailboxesModule {}
