/**
 * The events the CRM consumes from the BullMQ queue `mail-events` (job name = type, job id = id).
 * `schema/mail-events.schema.json` describes the same shapes for integrators in other languages.
 */
export const MAIL_EVENTS_QUEUE = 'mail-events';
/**
 * The webhooks' door onto the same stream: every event published on `mail-events` is added here too, in
 * the same Redis transaction, under the same id; a fan-out worker turns it into one delivery per subscribed
 * endpoint (libs/webhooks).
 */
export const WEBHOOK_FANOUT_QUEUE = 'webhook-fanout';

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

export interface MailAddress {
  name: string | null;
  address: string | null;
}

export interface ReceivedMessage {
  /**
   * Opaque, URL-safe (at most 200 characters): `GET /v1/mailboxes/:id/messages/:ref` reads the message.
   * IMAP: folder, UIDVALIDITY and UID; Graph: the immutable id and folder (see message-ref.ts).
   */
  ref: string;
  folder: string;
  uid: number | null;
  uidValidity: number | null;
  /** Graph immutable id, or null for IMAP. */
  providerMessageId: string | null;
  internetMessageId: string | null;
  subject: string | null;
  from: MailAddress | null;
  to: MailAddress[];
  cc: MailAddress[];
  /** When the mail server received it (IMAP INTERNALDATE / Graph receivedDateTime). */
  receivedAt: string | null;
  size: number | null;
}

/** A message as a listener fetched it, before the event gives it its `ref` (which needs the mailbox). */
export type FetchedMessage = Omit<ReceivedMessage, 'ref'>;

export interface MailReceivedEvent extends EventBase<'mail.received'> {
  message: ReceivedMessage;
}

export type MailboxConnectionState = 'pending' | 'connecting' | 'connected' | 'backoff' | 'auth_error' | 'disabled';

export interface MailboxStateChangedEvent extends EventBase<'mailbox.state_changed'> {
  state: MailboxConnectionState;
  previous: MailboxConnectionState | null;
  reason: { code: string; message: string } | null;
}

export interface MailboxAuthFailedEvent extends EventBase<'mailbox.auth_failed'> {
  reason: { code: string; message: string };
  recommendedAction: string;
}

export interface MailboxResyncedEvent extends EventBase<'mailbox.resynced'> {
  folder: string;
  /** Why the listener took a new baseline: the folder's UIDVALIDITY changed, or a Graph delta reset. */
  reason: 'uid_validity_changed' | 'delta_reset';
  previousUidValidity: number | null;
  uidValidity: number | null;
}

/** A message the CRM asked to send (`POST /v1/mailboxes/:id/outbox`), as the events report it. */
export interface SentMessageRef {
  /** The send's id (`GET /v1/mailboxes/:id/outbox/:sendId`). */
  id: string;
  /** The Message-ID header the message went out with. */
  messageId: string;
  /** Envelope recipients (To, Cc and Bcc). */
  recipients: string[];
  attempts: number;
}

export interface MailSentEvent extends EventBase<'mail.sent'> {
  send: SentMessageRef & { sentAt: string; response: string | null };
}

export interface MailSendFailedEvent extends EventBase<'mail.send_failed'> {
  send: SentMessageRef;
  /** `code` is stable (SendFailureCode of libs/sending, the server's SMTP code as SMTP_<nnn>, or Graph's error code as GRAPH_<code>); `message` quotes the server's reply. */
  reason: { code: string; message: string };
}

export type MailEvent = MailReceivedEvent | MailboxStateChangedEvent | MailboxAuthFailedEvent | MailboxResyncedEvent | MailSentEvent | MailSendFailedEvent;
export type MailEventType = MailEvent['type'];
