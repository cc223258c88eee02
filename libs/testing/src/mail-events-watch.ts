import { Queue, QueueEvents } from 'bullmq';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { eventId, MAIL_EVENTS_QUEUE } from '@app/events';

export interface WatchedJob {
  jobId: string;
  name: string;
}

/**
 * Watches `mail-events` through BullMQ's event stream (QueueEvents), from the stream's beginning: every
 * job added, and every add refused because a job with that id exists (`duplicated`) — which counting jobs
 * cannot see, since BullMQ silently keeps the first. Tests wait on these signals instead of sleeping.
 */
export class MailEventsWatch {
  readonly added: WatchedJob[] = [];
  readonly duplicated: string[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly events: QueueEvents,
    private readonly queue: Queue,
    private readonly connections: Redis[],
  ) {
    events.on('added', ({ jobId, name }) => this.record(() => this.added.push({ jobId, name })));
    events.on('duplicated', ({ jobId }) => this.record(() => this.duplicated.push(jobId)));
    // Redis may be stopped on purpose by a test; QueueEvents reconnects by itself.
    events.on('error', () => undefined);
  }

  static async open(redisUrl: string, prefix: string): Promise<MailEventsWatch> {
    const blocking = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const client = new Redis(redisUrl, { maxRetriesPerRequest: null });
    // From the stream's first entry: nothing added before the watch started is missed.
    const events = new QueueEvents(MAIL_EVENTS_QUEUE, { connection: blocking, prefix, lastEventId: '0-0' });
    const queue = new Queue(MAIL_EVENTS_QUEUE, { connection: client, prefix });
    queue.on('error', () => undefined);
    await events.waitUntilReady();
    return new MailEventsWatch(events, queue, [blocking, client]);
  }

  /** Resolves with the first added job that matches, as soon as its `added` event arrives. */
  waitForAdded(matches: (job: WatchedJob) => boolean, timeoutMs: number, what: string): Promise<WatchedJob> {
    return this.until(() => this.added.find(matches), timeoutMs, what);
  }

  /**
   * Resolves with a `mailbox.state_changed` of a mailbox into `state` (its data and the row version its id
   * is keyed by) with a version above `after`, looking at the events added so far and then as they arrive.
   */
  async waitForStateChanged(mailboxId: string, state: string, options: { after?: number; timeoutMs?: number } = {}): Promise<{ version: number; data: Record<string, any> }> {
    const after = options.after ?? 0;
    const looked = new Set<string>();
    const deadline = Date.now() + (options.timeoutMs ?? 15_000);
    const next = () => this.stateChangesAdded(mailboxId).find((change) => change.version > after && !looked.has(change.jobId));
    for (;;) {
      const change = await this.until(next, Math.max(0, deadline - Date.now()), `mailbox ${mailboxId} state ${state} after version ${after}`).catch(async (error: Error) => {
        throw new Error(`${error.message}; its state changes so far: ${await this.describeStateChanges(mailboxId)}`);
      });
      looked.add(change.jobId);
      const data = await this.data(change.jobId);
      if (data.state === state) return { version: change.version, data };
    }
  }

  /** The mailbox's `mailbox.state_changed` events added so far, with the status row version their id is keyed by. */
  private stateChangesAdded(mailboxId: string): { jobId: string; version: number }[] {
    const prefix = eventId('mailbox.state_changed', mailboxId, '');
    return this.added.filter((job) => job.jobId.startsWith(prefix)).map((job) => ({ jobId: job.jobId, version: Number(job.jobId.slice(prefix.length)) }));
  }

  /** A mailbox's state changes seen so far, for a failure message: `v1 connecting, v2 connected (…)`. */
  private async describeStateChanges(mailboxId: string): Promise<string> {
    const changes = this.stateChangesAdded(mailboxId).sort((a, b) => a.version - b.version);
    const described = await Promise.all(
      changes.map(async ({ jobId, version }) => {
        const data = await this.data(jobId).catch(() => null);
        const reason = data?.reason ? ` (${data.reason.code ?? ''}: ${data.reason.message ?? ''})` : '';
        return `v${version} ${data?.state ?? '?'}${reason}`;
      }),
    );
    return described.join(', ') || 'none';
  }

  /** Whether a job with this id is in the queue now. */
  async queueHas(jobId: string): Promise<boolean> {
    return Boolean(await this.queue.getJob(jobId));
  }

  /** The event's data as it sits in the queue. */
  async data(jobId: string): Promise<Record<string, any>> {
    const job = await this.queue.getJob(jobId);
    if (!job) throw new Error(`job ${jobId} is not in mail-events`);
    return job.data;
  }

  /**
   * Adds (and removes) a marker job and waits for its `added` event: the stream is ordered, so every
   * event of an add made before this call has been seen once it returns.
   */
  async settle(timeoutMs = 10_000): Promise<void> {
    const marker = `watch-marker-${randomUUID()}`;
    await this.queue.add('watch.marker', {}, { jobId: marker });
    await this.until(() => this.added.find((job) => job.jobId === marker), timeoutMs, 'the marker job');
    await this.queue.remove(marker);
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
    for (const connection of this.connections) connection.disconnect();
  }

  private record(change: () => void): void {
    change();
    for (const wake of this.waiters) wake();
  }

  private until<T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const found = find();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = find();
        if (value === undefined) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} on mail-events`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }
}
