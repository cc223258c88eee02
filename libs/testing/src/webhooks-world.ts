import { randomUUID } from 'node:crypto';
import { Clock } from '@app/clock';
import { imapMessageRef, MailEvent, MailEventsPublisher } from '@app/events';
import { WebhookDeliveryWorkers } from '@app/webhooks';
import { AppsWorld } from './apps-world';

/** A fresh database, the API and the listener (which delivers webhooks) in-process, for webhook tests. */
export class WebhooksWorld extends AppsWorld {
  async start(options: { env?: NodeJS.ProcessEnv; clock?: Clock } = {}): Promise<this> {
    await this.startApps({ WEBHOOK_RETRY_BASE_MS: '50', WEBHOOK_RETRY_MAX_MS: '200', ...options.env }, { listener: true, clock: options.clock });
    return this;
  }

  async stop(): Promise<void> {
    await this.stopApps();
  }

  /** Registers an endpoint; answers its id and its secret (shown once). */
  async register(url: string, events: string[] = ['*'], extra: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
    const res = await this.api.http.post('/v1/webhooks').set(this.api.auth).send({ url, events, ...extra }).expect(201);
    await this.syncWorkers();
    return { id: res.body.id, secret: res.body.secret };
  }

  /** Delivering processes re-read the endpoints every second; a test waits for the in-process one instead of racing it. */
  async syncWorkers(): Promise<void> {
    await this.listener?.app.get(WebhookDeliveryWorkers, { strict: false }).reconcile();
  }

  async deliveries(endpointId: string, limit = 100): Promise<Record<string, any>[]> {
    return (await this.api.http.get(`/v1/webhooks/${endpointId}/deliveries?limit=${limit}`).set(this.api.auth).expect(200)).body.items;
  }

  async endpoint(endpointId: string): Promise<Record<string, any>> {
    return (await this.api.http.get(`/v1/webhooks/${endpointId}`).set(this.api.auth).expect(200)).body;
  }

  /** Publishes through the API process's publisher, as the outbox relay or the listener does. */
  async publish(...events: MailEvent[]): Promise<void> {
    await this.api.app.get(MailEventsPublisher, { strict: false }).publishMany(events);
  }
}

/** A `mail.received` event of a made-up mailbox, with a fresh id. */
export function sampleMailReceived(overrides: Partial<{ id: string; subject: string }> = {}): MailEvent {
  const mailboxId = randomUUID();
  const id = overrides.id ?? `mail.received.${mailboxId}.INBOX.1.${Math.floor(Math.random() * 1e6)}`;
  return {
    id,
    type: 'mail.received',
    version: 1,
    occurredAt: new Date().toISOString(),
    mailbox: { id: mailboxId, email: 'ana@contoso.com', externalId: null },
    message: {
      ref: imapMessageRef(mailboxId, 'INBOX', 1, 1),
      folder: 'INBOX',
      uid: 1,
      uidValidity: 1,
      providerMessageId: null,
      internetMessageId: '<x@contoso.com>',
      subject: overrides.subject ?? 'Hello',
      from: { name: 'Bob', address: 'bob@contoso.com' },
      to: [],
      cc: [],
      receivedAt: new Date().toISOString(),
      size: 100,
    },
  };
}

export function sampleStateChanged(): MailEvent {
  const mailboxId = randomUUID();
  return {
    id: `mailbox.state_changed.${mailboxId}.1`,
    type: 'mailbox.state_changed',
    version: 1,
    occurredAt: new Date().toISOString(),
    mailbox: { id: mailboxId, email: 'ana@contoso.com', externalId: null },
    state: 'connected',
    previous: 'connecting',
    reason: null,
  };
}
