import { Module } from '@nestjs/common';
import { OutboxRepository } from './outbox.repository';
import { OutboxMetrics } from './outbox.metrics';
import { OutboxService } from './outbox.service';
import { SendQueue } from './queue/send-queue';

/** The outbox's API side: validate, store, queue (the controller is in http/), and the outbox depth gauge. */
@Module({ providers: [OutboxRepository, OutboxService, SendQueue, OutboxMetrics], exports: [OutboxService] })
export class SendingModule {}
