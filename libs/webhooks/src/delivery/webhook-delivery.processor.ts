import { Inject, Injectable, Logger } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { Clock, CLOCK } from '@app/clock';
import { WebhooksRepository } from '../webhooks.repository';
import { webhookSignature } from '../webhook-signature';
import { DeliveryJobData } from '../webhook-queues';
import { DeliveryLog } from './delivery-log';
import { LiveEndpoint, signingKeys } from './live-endpoints';
import { RetryAfterError } from './retry-after';
import { SendOutcome, WebhookSender } from './webhook-sender';
import { WebhookMetrics } from './webhook.metrics';

/** Deliveries are retried this long after they were queued; an endpoint failing this long is disabled. */
export const RETRY_WINDOW_MS = 24 * 3600_000;

export const WEBHOOK_SENDER = Symbol('WEBHOOK_SENDER');

/**
 * One attempt of one delivery: sign, POST, log, and decide. 2xx: delivered (ends the endpoint's failing
 * run). 410: the endpoint is disabled at once. Anything else: the attempt fails and BullMQ retries it with
 * backoff, waiting at least the `Retry-After` of a 429/503 (bounded by the delivery's 24 h window); once
 * the endpoint has been failing for 24 h it is disabled with the reason, and a delivery older than 24 h is
 * given up (kept as failed, retryable from the API).
 */
@Injectable()
export class WebhookDeliveryProcessor {
  private readonly logger = new Logger(WebhookDeliveryProcessor.name);

  constructor(
    private readonly repository: WebhooksRepository,
    private readonly log: DeliveryLog,
    private readonly metrics: WebhookMetrics,
    @Inject(WEBHOOK_SENDER) private readonly sender: WebhookSender,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** `disabled` is told when this attempt disabled the endpoint (its worker stops taking jobs). */
  async deliver(endpoint: LiveEndpoint, job: Job<DeliveryJobData>, disabled: (endpointId: string) => void): Promise<void> {
    const { event, queuedAt } = job.data;
    const body = JSON.stringify(event);
    // The timestamp is wall-clock time: the receiver compares it with its own clock (replay window).
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = webhookSignature(event.id, timestamp, body, signingKeys(endpoint, this.clock.now()));
    const started = process.hrtime.bigint();
    const outcome = await this.sender.send({ url: endpoint.url, id: event.id, timestamp, signature, body });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.metrics.count(outcome.kind, seconds);
    const now = this.clock.now();
    // A 429/503 with Retry-After: the next attempt waits for it, within what is left of the 24 h window.
    const retryAfter = outcome.kind === 'failed' && outcome.retryAfterMs !== undefined ? Math.max(0, Math.min(outcome.retryAfterMs, queuedAt + RETRY_WINDOW_MS - now)) : null;
    const error = outcome.kind === 'delivered' ? null : retryAfter === null ? outcome.error : `${outcome.error}; Retry-After: next attempt in ${Math.ceil(retryAfter / 1000)} s or later`;
    await this.log.record({
      endpointId: endpoint.id,
      eventId: event.id,
      eventType: event.type,
      attempt: job.attemptsMade + 1,
      status: outcome.status,
      error,
      durationMs: Math.round(seconds * 1000),
      at: new Date(now),
    });
    if (outcome.kind === 'delivered') {
      if (endpoint.failing) {
        endpoint.failing = false;
        await this.repository.clearFailing(endpoint.id);
      }
      return;
    }
    await this.failed(endpoint, outcome, now, queuedAt, disabled, retryAfter === null ? null : new RetryAfterError(error!, retryAfter));
  }

  private async failed(
    endpoint: LiveEndpoint,
    outcome: Exclude<SendOutcome, { kind: 'delivered' }>,
    now: number,
    queuedAt: number,
    disabled: (endpointId: string) => void,
    retryAfter: RetryAfterError | null,
  ): Promise<never> {
    if (outcome.kind === 'gone') {
      await this.disable(endpoint, `The endpoint answered 410 Gone at ${new Date(now).toISOString()}`, now, disabled);
      throw new UnrecoverableError(outcome.error);
    }
    endpoint.failing = true;
    const failingSince = await this.repository.markFailing(endpoint.id, new Date(now));
    if (failingSince && now - failingSince.getTime() >= RETRY_WINDOW_MS) {
      await this.disable(endpoint, `Every delivery failed for 24 h (since ${failingSince.toISOString()}); last error: ${outcome.error}`, now, disabled);
      throw new UnrecoverableError(outcome.error);
    }
    if (now - queuedAt >= RETRY_WINDOW_MS) throw new UnrecoverableError(`given up after 24 h of retries; last error: ${outcome.error}`);
    throw retryAfter ?? new Error(outcome.error);
  }

  private async disable(endpoint: LiveEndpoint, reason: string, now: number, disabled: (endpointId: string) => void): Promise<void> {
    endpoint.enabled = false;
    if (await this.repository.disable(endpoint.id, reason, new Date(now))) this.logger.warn(`Webhook ${endpoint.id} disabled: ${reason}`);
    disabled(endpoint.id);
  }
}
