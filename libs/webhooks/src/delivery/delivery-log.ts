import { Injectable, Logger } from '@nestjs/common';
import { turnBatcher } from '@app/batching';
import { DeliveryAttempt, WebhooksRepository } from '../webhooks.repository';
import { errorMessage } from '@app/failures';

/**
 * The delivery log's writer: attempts finished in the same event-loop turn go into one INSERT (a busy
 * process finishes thousands a second). A failed write is logged, not thrown: the log is for people, and the
 * delivery itself already happened or will be retried.
 */
@Injectable()
export class DeliveryLog {
  private readonly logger = new Logger(DeliveryLog.name);
  private sequence = 0;
  private readonly write = turnBatcher<DeliveryAttempt, void>({
    // Every attempt is its own row: a unique key so the batcher never splits a batch into rounds.
    key: () => String(this.sequence++),
    run: async (attempts) => {
      await this.repository.logAttempts(attempts);
      return attempts.map(() => undefined);
    },
  });

  constructor(private readonly repository: WebhooksRepository) {}

  async record(attempt: DeliveryAttempt): Promise<void> {
    await this.write(attempt).catch((error: unknown) => this.logger.warn(`Could not write the delivery log: ${errorMessage(error)}`));
  }
}
