import { Injectable } from '@nestjs/common';
import { DeliveryAttemptResponse, WebhookResponse, WebhooksService } from '@app/webhooks';

/** Endpoints on one console page: the API's list page size at most (GET /v1/webhooks pages through more). */
export const WEBHOOKS_SHOWN = 100;
/** Attempts shown in an endpoint's delivery log (GET /v1/webhooks/:id/deliveries?limit= goes to 500). */
export const DELIVERIES_SHOWN = 50;

export interface WebhookRow {
  endpoint: WebhookResponse;
  lastAttempt: DeliveryAttemptResponse | null;
}

/** One event's attempts in the log, newest first; `retryable` when its latest attempt failed. */
export interface DeliveryGroup {
  eventId: string;
  eventType: string;
  attempts: DeliveryAttemptResponse[];
  retryable: boolean;
}

/** A 2xx answer: the attempt delivered (the same rule as the sender's). */
export function delivered(attempt: DeliveryAttemptResponse): boolean {
  return attempt.error === null && attempt.status !== null && attempt.status >= 200 && attempt.status < 300;
}

/** Groups the log by event, keeping its order (newest event first). */
export function groupByEvent(attempts: DeliveryAttemptResponse[]): DeliveryGroup[] {
  const groups = new Map<string, DeliveryGroup>();
  for (const attempt of attempts) {
    let group = groups.get(attempt.eventId);
    if (!group) {
      group = { eventId: attempt.eventId, eventType: attempt.eventType, attempts: [], retryable: !delivered(attempt) };
      groups.set(attempt.eventId, group);
    }
    group.attempts.push(attempt);
  }
  return [...groups.values()];
}

/** The console's reads of webhooks, through the API's own WebhooksService (the same instance as GET /v1/webhooks). */
@Injectable()
export class WebhookEndpointsService {
  constructor(private readonly webhooks: WebhooksService) {}

  async listing(): Promise<{ rows: WebhookRow[]; total: number }> {
    const { items, total } = await this.webhooks.list(WEBHOOKS_SHOWN, 0);
    const rows = await Promise.all(
      items.map(async (endpoint) => ({ endpoint, lastAttempt: (await this.webhooks.deliveries(endpoint.id, 1)).items[0] ?? null })),
    );
    return { rows, total };
  }

  async endpoint(id: string): Promise<{ endpoint: WebhookResponse; deliveries: DeliveryGroup[] }> {
    const [endpoint, log] = await Promise.all([this.webhooks.get(id), this.webhooks.deliveries(id, DELIVERIES_SHOWN)]);
    return { endpoint, deliveries: groupByEvent(log.items) };
  }
}
