import { post } from './outbound';
import type { FakeGraphChangeType, FakeGraphDelivery } from './types';

/** Graph puts up to this many notifications into one POST. */
export const MAX_BATCH = 100;

export interface QueuedNotification {
  subscriptionId: string;
  /** One element of the POSTed `value` array. */
  item: Record<string, unknown>;
  /** Change notifications: what to report when Graph gives up on it. */
  messageId?: string;
  changeType?: FakeGraphChangeType;
}

export type NotificationKind = 'change' | 'lifecycle';

export interface NotifierDeps {
  now: () => number;
  timeoutMs: number;
  ca?: string;
  record: (delivery: FakeGraphDelivery) => void;
  /** A change notification for a subscription deleted or expired meanwhile is not sent. */
  isLive: (subscriptionId: string) => boolean;
  /** All attempts failed for these. */
  onDropped: (kind: NotificationKind, url: string, items: QueuedNotification[]) => void;
}

interface Queue {
  kind: NotificationKind;
  url: string;
  items: QueuedNotification[];
  running: boolean;
  scheduled: boolean;
}

/**
 * Outgoing notification POSTs. One queue per (kind, URL), drained by one worker at a time so a
 * subscription's notifications arrive in order; whatever piled up is sent together, up to 100 per
 * POST. A POST that is not answered 2xx within the timeout (or fails to connect) is retried
 * `attempts` times, `delayMs` apart, then dropped.
 */
export class Notifier {
  private readonly queues = new Map<string, Queue>();
  private readonly abort = new AbortController();
  private retry = { attempts: 3, delayMs: 200 };
  private paused = false;
  private direct = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly deps: NotifierDeps) {}

  setRetry(options: { attempts: number; delayMs: number }): void {
    this.retry = { attempts: Math.max(1, Math.floor(options.attempts)), delayMs: Math.max(0, options.delayMs) };
  }

  enqueue(kind: NotificationKind, url: string, notification: QueuedNotification): void {
    const key = `${kind} ${url}`;
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { kind, url, items: [], running: false, scheduled: false };
      this.queues.set(key, queue);
    }
    queue.items.push(notification);
    this.schedule(queue);
  }

  pause(): void {
    this.paused = true;
  }

  /** Sends everything queued while paused; resolves when all of it is delivered or dropped. */
  async resume(): Promise<void> {
    this.paused = false;
    for (const queue of this.queues.values()) if (queue.items.length) this.schedule(queue);
    await this.settled();
  }

  /** Resolves when no POST is in flight or due (queued items wait while paused). */
  settled(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  /** One POST, no retry (lifecycle events a test fires by hand): our status, 0 when there was no answer. */
  async sendOnce(kind: NotificationKind, url: string, items: QueuedNotification[]): Promise<number> {
    this.direct += 1;
    try {
      return await this.attempt(kind, url, items, 1);
    } finally {
      this.direct -= 1;
      this.checkIdle();
    }
  }

  stop(): void {
    this.abort.abort();
    for (const queue of this.queues.values()) queue.items = [];
    this.checkIdle(true);
  }

  private schedule(queue: Queue): void {
    if (queue.running || queue.scheduled || this.paused || this.abort.signal.aborted) return;
    queue.scheduled = true;
    // Deferred so that messages delivered in the same tick (deliverMany) go out in shared POSTs.
    setImmediate(() => {
      queue.scheduled = false;
      void this.run(queue);
    });
  }

  private async run(queue: Queue): Promise<void> {
    if (queue.running) return;
    queue.running = true;
    try {
      while (!this.paused && !this.abort.signal.aborted && queue.items.length) {
        const batch = queue.items
          .splice(0, MAX_BATCH)
          .filter((n) => queue.kind === 'lifecycle' || this.deps.isLive(n.subscriptionId));
        if (batch.length) await this.deliver(queue, batch);
      }
    } finally {
      queue.running = false;
      this.checkIdle();
    }
  }

  private async deliver(queue: Queue, batch: QueuedNotification[]): Promise<void> {
    const { attempts, delayMs } = this.retry;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      if (this.abort.signal.aborted) return;
      const status = await this.attempt(queue.kind, queue.url, batch, attempt);
      if (status >= 200 && status < 300) return;
      if (attempt < attempts) await this.sleep(delayMs);
    }
    if (!this.abort.signal.aborted) this.deps.onDropped(queue.kind, queue.url, batch);
  }

  private async attempt(kind: NotificationKind, url: string, batch: QueuedNotification[], attempt: number): Promise<number> {
    const payload = { value: batch.map((n) => n.item) };
    const subscriptionIds = [...new Set(batch.map((n) => n.subscriptionId))];
    const at = this.deps.now();
    const result = await post(url, JSON.stringify(payload), { 'Content-Type': 'application/json; charset=utf-8' }, {
      timeoutMs: this.deps.timeoutMs,
      ca: this.deps.ca,
      signal: this.abort.signal,
    });
    const ok = result.status >= 200 && result.status < 300;
    this.deps.record({
      kind,
      url,
      subscriptionId: subscriptionIds[0],
      subscriptionIds,
      itemCount: batch.length,
      status: result.status,
      ms: result.ms,
      attempt,
      at,
      error: ok ? undefined : (result.error ?? `HTTP ${result.status}`),
      payload,
    });
    return result.status;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.abort.signal.addEventListener('abort', done);
    });
  }

  private checkIdle(force = false): void {
    const busy =
      this.direct > 0 || [...this.queues.values()].some((q) => q.running || q.scheduled || (!this.paused && q.items.length > 0));
    if (busy && !force) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
