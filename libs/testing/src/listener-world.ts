import { Job } from 'bullmq';
import { AppConfig } from '@app/config';
import { RunningApi, startApi } from './api-harness';
import { DovecotServer, DovecotServerOptions } from './dovecot';
import { RunningListener, startListener } from './listener-harness';
import { testConfig } from './test-config';
import { createTestDatabase, TestDatabase } from './test-database';
import { TestMailEvents } from './test-queues';

/**
 * A real Dovecot, a fresh database, the API and the listener in-process, and the `mail-events` queue
 * as the CRM sees it: what every IMAP listener test starts from.
 */
export class ListenerWorld {
  dovecot!: DovecotServer;
  db!: TestDatabase;
  config!: AppConfig;
  api!: RunningApi;
  listener?: RunningListener;
  events!: TestMailEvents;
  providerId!: string;

  async start(options: { dovecot?: DovecotServerOptions; env?: NodeJS.ProcessEnv; listener?: boolean } = {}): Promise<this> {
    this.dovecot = await DovecotServer.start(options.dovecot);
    this.db = await createTestDatabase();
    this.config = testConfig(this.db.url, { SYNC_RECONCILE_INTERVAL_MS: '200', ...options.env });
    this.events = new TestMailEvents(this.config);
    this.api = await startApi(this.config);
    const provider = await this.api.http
      .post('/v1/providers')
      .set(this.api.auth)
      .send({ name: 'Dovecot', type: 'imap', host: '127.0.0.1', port: this.dovecot.port, secure: false, domains: ['contoso.com'] })
      .expect(201);
    this.providerId = provider.body.id;
    if (options.listener !== false) this.listener = await startListener(this.config);
    return this;
  }

  async stop(): Promise<void> {
    await this.listener?.close();
    await this.api?.close();
    await this.events?.dropAndClose();
    await this.db?.drop();
    await this.dovecot?.destroy();
  }

  /** A Dovecot user and its mailbox (password login). */
  async mailbox(email: string, extra: Record<string, unknown> = {}): Promise<{ id: string; email: string }> {
    await this.dovecot.addUser(email, `pw-${email}`);
    const res = await this.api.http.post('/v1/mailboxes').set(this.api.auth).send({ email, password: `pw-${email}`, ...extra }).expect(201);
    return { id: res.body.id, email };
  }

  async status(mailboxId: string): Promise<Record<string, any>> {
    return (await this.api.http.get(`/v1/mailboxes/${mailboxId}/status`).set(this.api.auth).expect(200)).body;
  }

  async waitForState(mailboxId: string, state: string, timeoutMs = 15_000): Promise<Record<string, any>> {
    return this.waitFor(() => this.status(mailboxId), (status) => status.connection.state === state, timeoutMs, `mailbox ${mailboxId} state ${state}`);
  }

  /** mail.received jobs of one mailbox. */
  async received(mailboxId: string): Promise<Job[]> {
    return (await this.events.jobs()).filter((job) => job.name === 'mail.received' && job.data.mailbox.id === mailboxId);
  }

  async waitForReceived(mailboxId: string, count: number, timeoutMs = 15_000): Promise<Job[]> {
    return this.waitFor(() => this.received(mailboxId), (jobs) => jobs.length >= count, timeoutMs, `${count} mail.received for ${mailboxId}`);
  }

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
