/**
 * The event types an endpoint may subscribe to: every type published on `mail-events` (see
 * libs/events mail-event.types.ts; sending adds mail.sent / mail.send_failed). `*` subscribes to all of
 * them, including types added later. `webhook.test` is not subscribable: it goes to the one endpoint asked.
 */
export const WEBHOOK_EVENT_TYPES = [
  'mail.received',
  'mailbox.state_changed',
  'mailbox.auth_failed',
  'mailbox.resynced',
  'mail.sent',
  'mail.send_failed',
] as const;

export { ALL_EVENTS, subscribesTo } from '@app/events';
export const TEST_EVENT_TYPE = 'webhook.test';
