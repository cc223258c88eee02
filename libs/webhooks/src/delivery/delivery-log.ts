import { Injectable, Logger } from '@nestjs/common';
import { flightBatcher } from '@app/batching';
import { DeliveryAttempt, WebhooksRepository } from '../webhooks.repository';
import { errorMessage } from '@app/failures';

/**
 * The delivery log's writer: attempts finished while the INSERTs before them ran go into one INSERT (a
 * busy process finishes thousands a second, each in a turn of its own: per turn they made ~10 rows a
 * statement). An attempt's job completes after its row is written. A failed write is logged, not thrown:
 * the log is for people, and the delivery itself already happened or will be retried.
 */
@Injectable()
export class DeliveryLog {
  private readonly logger = new Logger(DeliveryLog.name);
  private readonly write = flightBatcher<DeliveryAttempt, void>({
    run: async (attempts) => {
      await this.repository.logAttempts(attempts);
      return attempts.map(() => undefined);
    },
    // Two at once: an attempt waits for at most the INSERT running and its own.
    maxInFlight: 2,
  });

  constructor(private readonly repository: WebhooksRepository) {}

  async record(attempt: DeliveryAttempt): Promise<void> {
    await this.write(attempt).catch((error: unknown) => this.logger.warn(`Could not write the delivery log: ${errorMessage(error)}`));
  }
}
