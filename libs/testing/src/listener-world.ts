import { AppsWorld } from './apps-world';
import { DovecotServer, DovecotServerOptions } from './dovecot';
import { startListener } from './listener-harness';

/**
 * A real Dovecot, a fresh database, the API and the listener in-process, and the `mail-events` queue
 * as the CRM sees it: what every IMAP listener test starts from.
 */
export class ListenerWorld extends AppsWorld {
  dovecot!: DovecotServer;
  providerId!: string;

  async start(options: { dovecot?: DovecotServerOptions; env?: NodeJS.ProcessEnv; listener?: boolean } = {}): Promise<this> {
    this.dovecot = await DovecotServer.start(options.dovecot);
    await this.startApps({ SYNC_RECONCILE_INTERVAL_MS: '200', ...options.env }, { listener: false });
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
    await this.stopApps();
    await this.dovecot?.destroy();
  }

  /** A Dovecot user and its mailbox (password login). */
  async mailbox(email: string, extra: Record<string, unknown> = {}): Promise<{ id: string; email: string }> {
    await this.dovecot.addUser(email, `pw-${email}`);
    const res = await this.api.http.post('/v1/mailboxes').set(this.api.auth).send({ email, password: `pw-${email}`, ...extra }).expect(201);
    return { id: res.body.id, email };
  }
}
