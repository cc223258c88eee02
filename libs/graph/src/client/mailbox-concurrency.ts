/**
 * A FIFO counting semaphore. Exchange Online answers 429 "MailboxConcurrency" past 4 in-flight
 * requests per mailbox and app, so every request of one mailbox client takes a slot for the HTTP
 * exchange only (not while it sleeps before a retry, so waiting calls do not starve the others).
 */
export class MailboxConcurrency {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`maxConcurrent must be a positive integer, got ${limit}`);
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves with a release function once a slot is free; calling release twice is harmless. */
  async acquire(): Promise<() => void> {
    if (this.active < this.limit) this.active += 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release();
    };
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await work();
    } finally {
      release();
    }
  }

  private release(): void {
    const next = this.waiting.shift();
    // Hand the slot straight to the next waiter, so a newcomer cannot overtake it.
    if (next) next();
    else this.active -= 1;
  }
}
