/**
 * At most `limit` connection attempts in progress at once (all hosts). The per-host ConnectRamp paces how
 * fast attempts start; this bounds how many are in flight, so 10,000 mailboxes starting together queue
 * here instead of in the database pool (where waiters time out after 30 s and fail their attempt).
 */
export class ConnectSlots {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  private closed = false;

  constructor(private readonly limit: number) {}

  /** Resolves with the release function once a slot is free. */
  async acquire(): Promise<() => void> {
    if (!this.closed && this.active >= this.limit) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.active += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active -= 1;
      this.queue.shift()?.();
    };
  }

  get inFlight(): number {
    return this.active;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Shutdown: everyone waiting goes ahead (their runners are stopping and return at once). */
  close(): void {
    this.closed = true;
    this.queue.splice(0).forEach((resolve) => resolve());
  }
}
