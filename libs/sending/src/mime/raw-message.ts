import addressparser from 'nodemailer/lib/addressparser';
import { InvalidMessageException } from '../send-errors';
import { ComposedMessage } from './composed-message';

const HEADER_END = /\r?\n\r?\n/;

interface RawHeader {
  name: string;
  value: string;
}

/** The header block's fields, unfolded (RFC 5322 §2.2.3). */
function headersOf(block: string): RawHeader[] {
  const headers: RawHeader[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      headers[headers.length - 1].value += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon < 1) throw new InvalidMessageException(`body: header line ${JSON.stringify(line.slice(0, 60))} is not "Name: value"`);
    headers.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  return headers;
}

function mailboxes(value: string): string[] {
  const flat: string[] = [];
  const walk = (entries: ReturnType<typeof addressparser>) => {
    for (const entry of entries) {
      if ('group' in entry && entry.group) walk(entry.group);
      else if ('address' in entry && entry.address) flat.push(entry.address);
    }
  };
  walk(addressparser(value));
  return flat;
}

/** A raw message's new header block (what goes out instead of the one it came with), and its envelope. */
export interface PreparedHead {
  head: Buffer;
  messageId: string;
  envelope: { from: string; to: string[] };
}

/**
 * Where a raw message's header block ends in `text` (latin1 of its first bytes): the index the rest
 * (the empty line and the body, kept byte for byte) starts at, or -1 when not in `text` yet.
 */
export function headerEnd(text: string): number {
  const match = HEADER_END.exec(text);
  return match ? match.index : -1;
}

/**
 * A raw `message/rfc822` body as the CRM composed it: recipients from To/Cc/Bcc (Bcc is taken out of the
 * bytes sent), From must be the mailbox (added when missing), a Message-ID added when missing. The rest
 * goes out byte for byte.
 */
export function prepareRawMessage(body: Buffer, mailboxEmail: string, newId: string): ComposedMessage {
  const text = body.toString('latin1');
  const end = headerEnd(text);
  if (end < 0) throw new InvalidMessageException('body: a message/rfc822 body needs a header block ended by an empty line');
  const prepared = prepareRawHead(text.slice(0, end), mailboxEmail, newId);
  return { raw: Buffer.concat([prepared.head, body.subarray(end)]), messageId: prepared.messageId, envelope: prepared.envelope };
}

/** The header block (latin1, without the empty line that ends it) as it goes out: see prepareRawMessage. */
export function prepareRawHead(headerBlock: string, mailboxEmail: string, newId: string): PreparedHead {
  const headers = headersOf(headerBlock);
  const values = (name: string) => headers.filter((h) => h.name.toLowerCase() === name).map((h) => h.value);

  const from = values('from');
  if (from.length > 1) throw new InvalidMessageException('From: only one From header is allowed');
  if (from.length === 1) {
    const senders = mailboxes(from[0]);
    if (senders.length !== 1 || senders[0].toLowerCase() !== mailboxEmail.toLowerCase()) {
      throw new InvalidMessageException(`From: must be the mailbox's own address ${mailboxEmail}`);
    }
  }
  const recipients = [...new Set(['to', 'cc', 'bcc'].flatMap((name) => values(name).flatMap(mailboxes)))];
  if (recipients.length === 0) throw new InvalidMessageException('to: at least one recipient is required in To, Cc or Bcc');
  const existingId = values('message-id')[0];
  const messageId = existingId && /^<[^<>\s]+>$/.test(existingId) ? existingId : newId;

  const eol = headerBlock.includes('\r\n') ? '\r\n' : '\n';
  const kept = headerBlock
    .split(/\r?\n(?![ \t])/)
    .filter((line) => !/^bcc\s*:/i.test(line) && !(existingId === undefined ? false : messageId !== existingId && /^message-id\s*:/i.test(line)));
  const added = [...(from.length === 0 ? [`From: ${mailboxEmail}`] : []), ...(messageId !== existingId ? [`Message-ID: ${messageId}`] : [])];
  return { head: Buffer.from([...added, ...kept].join(eol), 'latin1'), messageId, envelope: { from: mailboxEmail, to: recipients } };
}
