/** The events the CRM consumes from the BullMQ queue `mail-events` (job name = type, job id = id). */
export const MAIL_EVENTS_QUEUE = 'mail-events';

export interface MailboxRef {
  id: string;
  email: string;
  externalId: string | null;
}

interface EventBase<T extends string> {
  /** Deterministic: the same fact always gets the same id, so BullMQ drops a second publish. */
  id: string;
  type: T;
  version: 1;
  occurredAt: string;
  mailbox: MailboxRef;
}

export interface MailboxAuthFailedEvent extends EventBase<'mailbox.auth_failed'> {
  reason: { code: string; message: string };
  recommendedAction: string;
}

export type MailEvent = MailboxAuthFailedEvent;
export type MailEventType = MailEvent['type'];
