import { Module } from '@nestjs/common';
import { OutboxRepository } from './outbox.repository';
import { OutboxService } from './outbox.service';
import { SendQueue } from './queue/send-queue';

/** The outbox's API side: validate, store, queue (the controller is in http/). */
@Module({ providers: [OutboxRepository, OutboxService, SendQueue], exports: [OutboxService] })
export class SendingModule {}
