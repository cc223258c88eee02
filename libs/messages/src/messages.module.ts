import { DynamicModule, Module } from '@nestjs/common';
import { Clock, CLOCK, systemClock } from '@app/clock';
import { OutboundModule } from '@app/outbound';
import { MailboxCredentialRepository, MailboxSpecRepository, StoredMailboxCredentials } from '@app/sync';
import { MessageReader } from './message-reader.service';

/** Reading messages for the CRM (the API's /v1/mailboxes/:id/messages routes). */
@Module({})
export class MessagesModule {
  /** `clock`: the one token expiry is judged by (tests and benchmarks pass the accelerated clock the apps share). */
  static forRoot(options: { clock?: Clock } = {}): DynamicModule {
    return {
      module: MessagesModule,
      imports: [OutboundModule],
      providers: [{ provide: CLOCK, useValue: options.clock ?? systemClock }, MailboxSpecRepository, MailboxCredentialRepository, StoredMailboxCredentials, MessageReader],
      exports: [MessageReader],
    };
  }
}
