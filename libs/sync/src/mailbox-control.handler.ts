import { Injectable, Logger } from '@nestjs/common';
import { isMailboxControlMessage, isProviderControlMessage } from '@app/control';
import { MailboxSupervisor } from './mailbox.supervisor';
import { errorMessage } from '@app/failures';

/**
 * The listener's side of control messages: checks what came off the shared Redis channel and hands it to
 * the supervisor, which acts only where it owns the mailbox. Never throws: a message is a hint, and the
 * periodic reconcile covers one that could not be acted on.
 */
@Injectable()
export class MailboxControlHandler {
  private readonly logger = new Logger(MailboxControlHandler.name);

  constructor(private readonly supervisor: MailboxSupervisor) {}

  async handle(message: unknown): Promise<void> {
    if (!isMailboxControlMessage(message) && !isProviderControlMessage(message)) {
      this.logger.warn('Ignored a control message of unknown shape');
      return;
    }
    try {
      await this.supervisor.onControl(message);
    } catch (error) {
      const about = 'mailboxId' in message ? `mailbox ${message.mailboxId}` : `provider ${message.providerId}`;
      const fields = 'mailboxId' in message ? { mailboxId: message.mailboxId } : { providerId: message.providerId };
      this.logger.warn(fields, `Control message ${message.kind} for ${about} not acted on (the reconcile catches up): ${errorMessage(error)}`);
    }
  }
}
