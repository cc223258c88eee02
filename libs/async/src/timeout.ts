/** Work that did not settle within its budget (the work itself may still complete later). */
export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/**
 * The project's one timeout: settles like `work`, or rejects with a TimeoutError saying `message` after
 * `ms`. The timer is cleared as soon as `work` settles, and a rejection of `work` after the deadline is
 * ignored (never unhandled). `work` is not cancelled: for a bounded wait whose outcome does not matter,
 * catch the rejection (`withTimeout(work, ms).catch(() => undefined)`).
 */
export function withTimeout<T>(work: Promise<T>, ms: number, message = `Did not finish within ${ms} ms`): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(message)), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
