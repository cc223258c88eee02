import { createHash } from 'node:crypto';
import { eventId, FetchedMessage, folderKey, graphMessageRef, imapMessageRef, MailboxRef, MailboxResyncedEvent, MailReceivedEvent } from '@app/events';

export { folderKey };

// `mailbox.state_changed` is built with the status row it reports: see libs/mailbox-state.

/** Same message (mailbox, folder, UIDVALIDITY, UID) → same id, whichever session or replica publishes it. */
export function mailReceived(mailbox: MailboxRef, message: FetchedMessage, occurredAt: Date): MailReceivedEvent {
  return {
    id: eventId('mail.received', mailbox.id, folderKey(message.folder), message.uidValidity ?? 0, message.uid ?? 0),
    type: 'mail.received',
    version: 1,
    occurredAt: occurredAt.toISOString(),
    mailbox,
    message: { ref: imapMessageRef(mailbox.id, message.folder, message.uidValidity ?? 0, message.uid ?? 0), ...message },
  };
}

/** Graph: same message (mailbox, folder, immutable id) → same id, whichever delta round publishes it. */
export function graphMailReceived(mailbox: MailboxRef, message: FetchedMessage, occurredAt: Date): MailReceivedEvent {
  const messageKey = createHash('sha256').update(message.providerMessageId ?? '').digest('hex').slice(0, 32);
  return {
    id: eventId('mail.received', mailbox.id, folderKey(message.folder), 'g', messageKey),
    type: 'mail.received',
    version: 1,
    occurredAt: occurredAt.toISOString(),
    mailbox,
    message: { ref: graphMessageRef(mailbox.id, message.folder, message.providerMessageId ?? ''), ...message },
  };
}

/** Graph forgot the folder's delta state (410): a new baseline was taken from the last known sync time. */
export function graphDeltaReset(mailbox: MailboxRef, folder: string, occurredAt: Date): MailboxResyncedEvent {
  return {
    id: eventId('mailbox.resynced', mailbox.id, folderKey(folder), 'delta', occurredAt.getTime()),
    type: 'mailbox.resynced',
    version: 1,
    occurredAt: occurredAt.toISOString(),
    mailbox,
    folder,
    reason: 'delta_reset',
    previousUidValidity: null,
    uidValidity: null,
  };
}

export function mailboxResynced(mailbox: MailboxRef, folder: string, previousUidValidity: number | null, uidValidity: number, occurredAt: Date): MailboxResyncedEvent {
  return {
    id: eventId('mailbox.resynced', mailbox.id, folderKey(folder), uidValidity),
    type: 'mailbox.resynced',
    version: 1,
    occurredAt: occurredAt.toISOString(),
    mailbox,
    folder,
    reason: 'uid_validity_changed',
    previousUidValidity,
    uidValidity,
  };
}
