import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { InjectFlowProducer } from '@nestjs/bullmq';
import { FlowProducer } from 'bullmq';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { Clock, CLOCK } from '@app/clock';
import { APP_CONFIG, AppConfig } from '@app/config';
import { SecretBox } from '@app/crypto';
import { OutboundPolicy } from '@app/outbound';
import { secretContext } from '@app/persistence';
import { REDIS } from '@app/redis';
import {
  CreateWebhookDto,
  DeliveryListResponse,
  DeliveryQueuedResponse,
  UpdateWebhookDto,
  WebhookCreatedResponse,
  WebhookListResponse,
  WebhookResponse,
  WebhookSecretResponse,
} from './dto/webhook.dto';
import { DeliveryNotFoundException, DeliveryPendingException, WebhookDisabledException, WebhookNotFoundException, WebhookUrlRefusedException } from './webhook-errors';
import { TEST_EVENT_TYPE } from './webhook-event-types';
import { toWebhookResponse } from './webhook.mapper';
import { WEBHOOK_DELIVERIES_FLOW, WebhookQueues } from './webhook-queues';
import { newWebhookSecret } from './webhook-secret';
import { webhookUrlProblem } from './webhook-url';
import { WebhooksRepository } from './webhooks.repository';

/** After a rotation the previous secret signs too, this long (the spec's multiple signatures). */
export const PREVIOUS_SECRET_SIGNS_MS = 24 * 3600_000;

/** The API's side of webhooks: endpoints, their secrets, the delivery log, test and retry. */
@Injectable()
export class WebhooksService implements OnApplicationShutdown {
  private readonly queues: WebhookQueues;

  constructor(
    private readonly repository: WebhooksRepository,
    private readonly secrets: SecretBox,
    private readonly outbound: OutboundPolicy,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(REDIS) redis: Redis,
    @InjectFlowProducer(WEBHOOK_DELIVERIES_FLOW) flows: FlowProducer,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.queues = new WebhookQueues(redis, flows, config.queuePrefix);
  }

  async create(dto: CreateWebhookDto): Promise<WebhookCreatedResponse> {
    await this.checkUrl(dto.url);
    const id = randomUUID();
    const secret = newWebhookSecret();
    const now = new Date(this.clock.now());
    await this.repository.insert(
      { id, url: dto.url, events: dto.events, description: dto.description ?? null, enabled: dto.enabled ?? true, secretEncrypted: this.secrets.encrypt(secret, secretContext.webhookSecret(id)) },
      now,
    );
    return { ...(await this.get(id)), secret };
  }

  async list(limit: number, offset: number): Promise<WebhookListResponse> {
    const { rows, total } = await this.repository.page(limit, offset);
    return { items: rows.map(toWebhookResponse), total, limit, offset };
  }

  async get(id: string): Promise<WebhookResponse> {
    id = canonical(id);
    const row = await this.repository.find(id);
    if (!row) throw new WebhookNotFoundException(id);
    return toWebhookResponse(row);
  }

  async update(id: string, dto: UpdateWebhookDto): Promise<WebhookResponse> {
    id = canonical(id);
    if (!(await this.repository.find(id))) throw new WebhookNotFoundException(id);
    if (dto.url !== undefined) await this.checkUrl(dto.url);
    if (!(await this.repository.update(id, dto, new Date(this.clock.now())))) throw new WebhookNotFoundException(id);
    return this.get(id);
  }

  async remove(id: string): Promise<void> {
    id = canonical(id);
    if (!(await this.repository.delete(id))) throw new WebhookNotFoundException(id);
    await this.queues.drop(id);
  }

  async rotateSecret(id: string): Promise<WebhookSecretResponse> {
    id = canonical(id);
    const row = await this.repository.find(id);
    if (!row) throw new WebhookNotFoundException(id);
    const previous = this.secrets.decrypt(row.secretEncrypted, secretContext.webhookSecret(id));
    const secret = newWebhookSecret();
    const now = this.clock.now();
    const expiresAt = new Date(now + PREVIOUS_SECRET_SIGNS_MS);
    const sealed = { secret: this.secrets.encrypt(secret, secretContext.webhookSecret(id)), previous: this.secrets.encrypt(previous, secretContext.webhookPreviousSecret(id)) };
    if (!(await this.repository.rotate(id, sealed, expiresAt, new Date(now)))) throw new WebhookNotFoundException(id);
    return { id, secret, previousSecretExpiresAt: expiresAt.toISOString() };
  }

  /** Queues a `webhook.test` event for this endpoint only. */
  async test(id: string): Promise<DeliveryQueuedResponse> {
    id = canonical(id);
    const row = await this.repository.find(id);
    if (!row) throw new WebhookNotFoundException(id);
    if (!row.enabled) throw new WebhookDisabledException(id);
    const now = this.clock.now();
    const event = { id: `${TEST_EVENT_TYPE}.${randomUUID()}`, type: TEST_EVENT_TYPE, version: 1, occurredAt: new Date(now).toISOString(), webhook: { id, url: row.url } };
    await this.queues.add([{ endpointId: id, data: { event, queuedAt: now } }]);
    return { eventId: event.id, state: 'queued' };
  }

  async deliveries(id: string, limit: number): Promise<DeliveryListResponse> {
    id = canonical(id);
    if (!(await this.repository.find(id))) throw new WebhookNotFoundException(id);
    const attempts = await this.repository.latestAttempts(id, limit);
    return { items: attempts.map((attempt) => ({ ...attempt, at: new Date(attempt.at).toISOString() })) };
  }

  /**
   * Runs a retained delivery again now, with a fresh 24 h retry window: a failed (given up) or delivered one
   * goes back to waiting, one waiting for its next attempt is moved forward. One waiting or in flight is a 409.
   */
  async retry(id: string, eventId: string): Promise<DeliveryQueuedResponse> {
    id = canonical(id);
    const row = await this.repository.find(id);
    if (!row) throw new WebhookNotFoundException(id);
    if (!row.enabled) throw new WebhookDisabledException(id);
    const job = await this.queues.deliveries(id).getJob(eventId);
    if (!job) throw new DeliveryNotFoundException(id, eventId);
    const state = await job.getState();
    if (state === 'unknown') throw new DeliveryNotFoundException(id, eventId);
    if (state !== 'failed' && state !== 'completed' && state !== 'delayed') throw new DeliveryPendingException(eventId, state);
    await job.updateData({ ...job.data, queuedAt: this.clock.now() });
    if (state === 'delayed') await job.promote();
    else await job.retry(state);
    return { eventId, state: 'queued' };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queues.close();
  }

  private async checkUrl(url: string): Promise<void> {
    const problem = await webhookUrlProblem(url, this.outbound);
    if (problem) throw new WebhookUrlRefusedException(problem);
  }
}

/** UUIDs in their canonical lower-case spelling: the secrets' context and the queue names are built from it. */
function canonical(id: string): string {
  return id.toLowerCase();
}
