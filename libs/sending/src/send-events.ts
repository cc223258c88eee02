import { eventId, MailboxRef, MailSendFailedEvent, MailSentEvent } from '@app/events';
import { SendRow } from './outbox.repository';
import { SendError } from './outbox.repository';

/** `mail.sent` for a send that the server accepted (one per send: its id is the event's). */
export function mailSentEvent(mailbox: MailboxRef, row: SendRow, at: Date): MailSentEvent {
  return {
    id: eventId('mail.sent', row.id),
    type: 'mail.sent',
    version: 1,
    occurredAt: at.toISOString(),
    mailbox,
    send: { id: row.id, messageId: row.message_id, recipients: row.envelope_to, attempts: row.attempts, sentAt: (row.sent_at ?? at).toISOString(), response: row.response },
  };
}

/** `mail.send_failed` for a send given up (one per send). */
export function mailSendFailedEvent(mailbox: MailboxRef, row: SendRow, reason: SendError, at: Date): MailSendFailedEvent {
  return {
    id: eventId('mail.send_failed', row.id),
    type: 'mail.send_failed',
    version: 1,
    occurredAt: at.toISOString(),
    mailbox,
    send: { id: row.id, messageId: row.message_id, recipients: row.envelope_to, attempts: row.attempts },
    reason,
  };
}
