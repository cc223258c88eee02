import { Controller, Inject, Type } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { MailboxControlHandler } from '@app/sync';

/**
 * The control-message endpoint. Built per application because the pattern carries QUEUE_PREFIX (a
 * decorator argument is fixed when the class is defined); the work is MailboxControlHandler's.
 */
export function mailboxControlController(pattern: string): Type<unknown> {
  @Controller()
  class MailboxControlController {
    constructor(@Inject(MailboxControlHandler) private readonly handler: MailboxControlHandler) {}

    @EventPattern(pattern)
    handle(@Payload() message: unknown): Promise<void> {
      return this.handler.handle(message);
    }
  }
  return MailboxControlController;
}
