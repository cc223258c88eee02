import { Inject, Injectable, Logger } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ControlMessage, MailboxControlKind, mailboxControlPattern, ProviderControlKind } from './control-messages';
import { errorMessage } from '@app/failures';

/** The Nest client (Redis transport) the API announces through. */
export const CONTROL_CLIENT = 'CONTROL_CLIENT';

/**
 * Tells every listener that a mailbox changed, after the change committed. Fire-and-forget: the caller
 * never waits for Redis, and a failed publish is logged and swallowed (the listeners' periodic reconcile
 * catches up), so the API keeps working while Redis is down.
 */
@Injectable()
export class MailboxAnnouncer {
  private readonly logger = new Logger(MailboxAnnouncer.name);
  private readonly pattern: string;

  constructor(
    @Inject(CONTROL_CLIENT) private readonly client: ClientProxy,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.pattern = mailboxControlPattern(config.queuePrefix);
  }

  announce(kind: MailboxControlKind, mailboxId: string): void {
    this.emit({ kind, mailboxId }, `mailbox ${mailboxId}`);
  }

  /** A provider's app-only token changed: the listeners running its mailboxes look at them now. */
  announceProvider(kind: ProviderControlKind, providerId: string): void {
    this.emit({ kind, providerId }, `provider ${providerId}`);
  }

  private emit(message: ControlMessage, about: string): void {
    try {
      this.client.emit(this.pattern, message).subscribe({
        error: (error: unknown) => {
          this.logger.warn(subjectOf(message), `Control message ${message.kind} for ${about} not sent (the listeners' reconcile catches up): ${errorMessage(error)}`);
        },
      });
    } catch (error) {
      this.logger.warn(subjectOf(message), `Control message ${message.kind} for ${about} not sent: ${errorMessage(error)}`);
    }
  }
}

/** The log fields naming what a control message is about: a mailbox (its story in the logs) or a provider. */
function subjectOf(message: ControlMessage): Record<string, string> {
  return 'mailboxId' in message ? { mailboxId: message.mailboxId } : { providerId: message.providerId };
}
