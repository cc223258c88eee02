import { Module } from '@nestjs/common';
import { ProvidersModule } from '@app/providers';
import { MailboxStatusService } from './mailbox-status.service';
import { MailboxesService } from './mailboxes.service';

@Module({ imports: [ProvidersModule], providers: [MailboxesService, MailboxStatusService], exports: [MailboxesService, MailboxStatusService] })
export class MailboxesModule {}
