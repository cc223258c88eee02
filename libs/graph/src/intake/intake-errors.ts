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

/** A promise that did not settle within its budget (the work itself may still complete later). */
export class IntakeTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not finish within ${ms} ms`);
    this.name = 'IntakeTimeoutError';
  }
}

/** Resolves like `work`, or rejects with IntakeTimeoutError after `ms`; a late rejection of `work` is ignored. */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new IntakeTimeoutError(what, ms)), ms);
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
