/** An endpoint subscribed to this receives every event type, including types added later. */
export const ALL_EVENTS = '*';

/** Whether an endpoint subscribed to `events` receives an event of `type`. */
export function subscribesTo(events: readonly string[], type: string): boolean {
  return events.includes(ALL_EVENTS) || events.includes(type);
}

/**
 * The event types some enabled webhook endpoint subscribes to (ALL_EVENTS among them when one takes
 * everything), read in the same statement that takes events for publication (EventOutboxRepository.take).
 * An event no endpoint would receive needs no job on the webhooks' door: a fan-out job costs the
 * delivering process a Redis round trip to take it, one to finish it and an endpoint read, and a
 * connecting fleet without webhooks published two per mailbox for nothing.
 */
export type WebhookAudience = readonly string[];
