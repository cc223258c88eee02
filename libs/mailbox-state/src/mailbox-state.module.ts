import { Module } from '@nestjs/common';
import { EventOutboxModule } from '@app/events';
import { MailboxStatusRepository } from './mailbox-status.repository';
import { MailboxStatusWriter } from './mailbox-status.writer';

/** A mailbox's connection state: its transition table, its one writer and its repository (API and listener). */
@Module({ imports: [EventOutboxModule], providers: [MailboxStatusRepository, MailboxStatusWriter], exports: [MailboxStatusRepository, MailboxStatusWriter] })
export class MailboxStateModule {}
