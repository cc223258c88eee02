import { Job } from 'bullmq';
import { AppConfig } from '@app/config';
import { Clock } from '@app/clock';
import { RunningApi, startApi } from './api-harness';
import { RunningListener, startListener } from './listener-harness';
import { testConfig } from './test-config';
import { createTestDatabase, TestDatabase } from './test-database';
import { MailEventsWatch } from './mail-events-watch';
import { metricValue } from './metric-value';
import { TestMailEvents } from './test-queues';

/** The part every end-to-end world shares: a fresh database, the API and optionally the listener, and `mail-events`. */
export abstract class AppsWorld {
  db!: TestDatabase;
  config!: AppConfig;
  api!: RunningApi;
  listener?: RunningListener;
  events!: TestMailEvents;
  /** `mail-events` as a stream: every job added, and every add refused as `duplicated` (a re-publish under an existing id). */
  watch!: MailEventsWatch;

  protected async startApps(env: NodeJS.ProcessEnv, options: { listener: boolean; clock?: Clock }): Promise<void> {
    this.db = await createTestDatabase();
    this.config = testConfig(this.db.url, env);
    this.events = new TestMailEvents(this.config);
    this.watch = await MailEventsWatch.open(this.config.redisUrl, this.config.queuePrefix);
    this.api = await startApi(this.config, { clock: options.clock });
    if (options.listener) this.listener = await startListener(this.config, { clock: options.clock });
  }

  protected async stopApps(): Promise<void> {
    await this.listener?.close();
    await this.api?.close();
    await this.watch?.close();
    await this.events?.dropAndClose();
    await this.db?.drop();
  }

  async status(mailboxId: string): Promise<Record<string, any>> {
    return (await this.api.http.get(`/v1/mailboxes/${mailboxId}/status`).set(this.api.auth).expect(200)).body;
  }

  /**
   * The `mail.received` of a mailbox re-published under an id that existed (BullMQ drops them, so counting
   * jobs cannot see them), as seen so far: call `watch.settle()` first to see every add made until then.
   */
  duplicatedMail(mailboxId: string): string[] {
    return this.watch.duplicated.filter((jobId) => jobId.startsWith(`mail.received.${mailboxId}.`));
  }

  /** One sample of a process's Prometheus exposition at `url` (`name{labels}`), 0 when absent. */
  async metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(`${url}/metrics`)).text();
    return metricValue(text, name, labels);
  }

  /** Jobs on `mail-events` of one mailbox (all types, or one). */
  async jobsOf(mailboxId: string, type?: string): Promise<Job[]> {
    return (await this.events.jobs()).filter((job) => job.data?.mailbox?.id === mailboxId && (!type || job.name === type));
  }

  /** mail.received jobs of one mailbox. */
  async received(mailboxId: string): Promise<Job[]> {
    return this.jobsOf(mailboxId, 'mail.received');
  }

  async waitForReceived(mailboxId: string, count: number, timeoutMs = 15_000): Promise<Job[]> {
    return this.waitFor(() => this.received(mailboxId), (jobs) => jobs.length >= count, timeoutMs, `${count} mail.received for ${mailboxId}`);
  }

  async waitForState(mailboxId: string, state: string, timeoutMs = 15_000): Promise<Record<string, any>> {
    return this.waitFor(() => this.status(mailboxId), (status) => status.connection.state === state, timeoutMs, `mailbox ${mailboxId} state ${state}`);
  }

  /**
   * A mailbox's events of one type once `done` holds for them. An outbox event (state changes,
   * auth_failed) reaches the queue after its row, by up to the relay's round gap: wait for it rather than
   * read the queue right after the row changed.
   */
  waitForEvents(mailboxId: string, type: string, done: (jobs: Job[]) => boolean, what: string, timeoutMs = 5_000): Promise<Job[]> {
    return this.waitFor(() => this.jobsOf(mailboxId, type), done, timeoutMs, what);
  }

  /** Polls `read` until `done` holds. */
  async waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last = await read();
    while (!done(last)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last).slice(0, 500)}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
      last = await read();
    }
    return last;
  }
}
