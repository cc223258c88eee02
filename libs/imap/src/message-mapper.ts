import type { FetchMessageObject, MessageAddressObject } from 'imapflow';
import { MailAddress, FetchedMessage } from '@app/events';

function address(entry: MessageAddressObject): MailAddress {
  return { name: entry.name || null, address: entry.address ?? null };
}

/** The fields of a fetched IMAP message the `mail.received` event carries. */
export function receivedMessageOf(message: FetchMessageObject, folder: string, uidValidity: number): FetchedMessage {
  const envelope = message.envelope;
  const internalDate = message.internalDate instanceof Date ? message.internalDate : message.internalDate ? new Date(message.internalDate) : null;
  return {
    folder,
    uid: message.uid,
    uidValidity,
    providerMessageId: null,
    internetMessageId: envelope?.messageId ?? null,
    subject: envelope?.subject ?? null,
    from: envelope?.from?.[0] ? address(envelope.from[0]) : null,
    to: (envelope?.to ?? []).map(address),
    cc: (envelope?.cc ?? []).map(address),
    receivedAt: internalDate ? internalDate.toISOString() : null,
    size: message.size ?? null,
  };
}
