import { BadRequestException, ServiceUnavailableException } from '@nestjs/common';

/**
 * The POST body is not a Graph notification collection. A 400 naming the problem: Graph never sends
 * such a body, so this is a client bug or a probe, and retrying it would not help.
 */
export class MalformedNotificationError extends BadRequestException {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedNotificationError';
  }
}

/**
 * Accepted notifications could not be made durable (Redis down or too slow) or the subscriptions could
 * not be looked up (Postgres). A 503, so Graph delivers the batch again: nothing is dropped silently.
 */
export class GraphIntakeUnavailableError extends ServiceUnavailableException {
  constructor(
    message: string,
    readonly reason: 'enqueue' | 'lookup',
  ) {
    super(message);
    this.name = 'GraphIntakeUnavailableError';
  }
}
