import type { MailAddress, FetchedMessage } from '@app/events';
import type { GraphMessage } from './graph-client.types';

/**
 * The message properties a delta round asks for (`id` always comes anyway). Kept small: Graph's delta
 * pages get slower and larger with every property, and the event needs only these.
 */
export const MESSAGE_SELECT = ['internetMessageId', 'subject', 'from', 'toRecipients', 'ccRecipients', 'receivedDateTime', 'parentFolderId'] as const;

type Json = Record<string, unknown>;

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** Graph's recipient `{ emailAddress: { name, address } }`; empty strings become null, as the IMAP mapper does. */
export function mailAddressOfGraph(value: unknown): MailAddress | null {
  const email = (value as { emailAddress?: unknown } | null)?.emailAddress as Json | undefined;
  if (!email || typeof email !== 'object') return null;
  const name = text(email.name);
  const address = text(email.address);
  if (!name && !address) return null;
  return { name: name || null, address: address || null };
}

function addresses(value: unknown): MailAddress[] {
  if (!Array.isArray(value)) return [];
  return value.map(mailAddressOfGraph).filter((a): a is MailAddress => a !== null);
}

/** One item of a delta page (or a message GET) → GraphMessage; null when it has no usable id. */
export function graphMessageOf(item: unknown): GraphMessage | null {
  if (!item || typeof item !== 'object') return null;
  const raw = item as Json;
  const id = text(raw.id);
  if (!id) return null;
  return {
    id,
    internetMessageId: text(raw.internetMessageId),
    subject: text(raw.subject),
    from: mailAddressOfGraph(raw.from),
    to: addresses(raw.toRecipients),
    cc: addresses(raw.ccRecipients),
    receivedDateTime: text(raw.receivedDateTime),
    parentFolderId: text(raw.parentFolderId),
  };
}

/** Graph's "2026-11-21T10:00:00Z" → "2026-11-21T10:00:00.000Z", the same shape IMAP events carry. */
function isoOrNull(value: string | null): string | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/**
 * GraphMessage → the `mail.received` event's message: no IMAP uid/uidValidity, the immutable id as
 * providerMessageId, size null (Graph's message resource has no size property; fetching the MIME would
 * cost a request per message).
 */
export function receivedMessageOfGraph(message: GraphMessage, folderPath: string): FetchedMessage {
  return {
    folder: folderPath,
    uid: null,
    uidValidity: null,
    providerMessageId: message.id,
    internetMessageId: message.internetMessageId,
    subject: message.subject,
    from: message.from,
    to: message.to,
    cc: message.cc,
    receivedAt: isoOrNull(message.receivedDateTime),
    size: null,
  };
}
