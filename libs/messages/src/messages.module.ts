import { Module } from '@nestjs/common';
import { OutboundModule } from '@app/outbound';
import { MailboxCredentialRepository, MailboxSpecRepository, StoredMailboxCredentials } from '@app/sync';
import { MessageReader } from './message-reader.service';

/** Reading messages for the CRM (the API's /v1/mailboxes/:id/messages routes). */
@Module({
  imports: [OutboundModule],
  providers: [MailboxSpecRepository, MailboxCredentialRepository, StoredMailboxCredentials, MessageReader],
  exports: [MessageReader],
})
export class MessagesModule {}
