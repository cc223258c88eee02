import { eventId, MailboxAuthFailedEvent } from '@app/events';

/**
 * `mailbox.auth_failed` for a token grant that died: keyed by the grant's generation, so one grant fails
 * once, whichever replica noticed, and a new sign-in (a new generation) can fail again.
 */
export function mailboxAuthFailed(
  mailbox: { id: string; email: string; externalId: string | null },
  generation: number,
  reason: { code: string; message: string },
  occurredAt: Date,
): MailboxAuthFailedEvent {
  return {
    id: eventId('mailbox.auth_failed', mailbox.id, generation),
    type: 'mailbox.auth_failed',
    version: 1,
    occurredAt: occurredAt.toISOString(),
    mailbox: { id: mailbox.id, email: mailbox.email, externalId: mailbox.externalId },
    reason,
    recommendedAction: `Sign in again: ${reason.message}`,
  };
}
