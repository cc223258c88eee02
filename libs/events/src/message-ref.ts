import { createHash } from 'node:crypto';
import { folderKey } from './folder-key';

/**
 * `message.ref` of a `mail.received` event: what `GET /v1/mailboxes/:id/messages/:ref` accepts. Opaque to
 * the CRM, URL-safe (`[A-Za-z0-9._~-]`), at most MESSAGE_REF_MAX_LENGTH characters. Inside:
 *   IMAP  `i1.<mailbox tag>.<folder>.<uidValidity>.<uid>`
 *   Graph `g1.<mailbox tag>.<folder>.<immutable id, escaped>`
 * The mailbox tag (a hash of the mailbox id) makes a ref of another mailbox a 404 rather than a read of
 * whatever message has the same UID there. The folder is `f` + base64url of its path, or, when that would
 * make the ref too long, `h` + its folderKey (resolved against the mailbox's folders).
 */
export const MESSAGE_REF_MAX_LENGTH = 200;

export type FolderRef = { path: string } | { key: string };

export type MessageRefParts =
  | { kind: 'imap'; mailboxTag: string; folder: FolderRef; uidValidity: number; uid: number }
  | { kind: 'graph'; mailboxTag: string; folder: FolderRef; messageId: string };

/** Why a string is not a message ref (the 400's message names it). */
export class MalformedMessageRefError extends Error {
  constructor(problem: string) {
    super(`ref: ${problem}`);
    this.name = 'MalformedMessageRefError';
  }
}

export function mailboxTag(mailboxId: string): string {
  return createHash('sha256').update(mailboxId).digest('base64url').slice(0, 8);
}

function folderToken(path: string, short: boolean): string {
  return short ? `h${folderKey(path)}` : `f${Buffer.from(path, 'utf8').toString('base64url')}`;
}

/** Graph ids are base64 ('+', '/', '=' possible): every character outside [A-Za-z0-9_-] becomes ~XX. */
function escapeId(id: string): string {
  return Array.from(Buffer.from(id, 'utf8'))
    .map((byte) => (/[A-Za-z0-9_-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `~${byte.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}

function unescapeId(text: string): string {
  if (!/^(?:[A-Za-z0-9_-]|~[0-9A-F]{2})+$/.test(text)) throw new MalformedMessageRefError('the message id part holds characters a ref never has');
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '~') {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(text.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

function shortest(build: (short: boolean) => string): string {
  const long = build(false);
  return long.length <= MESSAGE_REF_MAX_LENGTH ? long : build(true);
}

export function imapMessageRef(mailboxId: string, folder: string, uidValidity: number, uid: number): string {
  return shortest((short) => ['i1', mailboxTag(mailboxId), folderToken(folder, short), uidValidity, uid].join('.'));
}

/** A Graph immutable id is ~150 characters; refs stay within the limit with the folder's short form. */
export function graphMessageRef(mailboxId: string, folder: string, messageId: string): string {
  return shortest((short) => ['g1', mailboxTag(mailboxId), folderToken(folder, short), escapeId(messageId)].join('.'));
}

function parseFolder(token: string): FolderRef {
  if (/^h[0-9a-f]{12}$/.test(token)) return { key: token.slice(1) };
  if (/^f[A-Za-z0-9_-]+$/.test(token)) {
    const path = Buffer.from(token.slice(1), 'base64url').toString('utf8');
    if (path.length > 0 && Buffer.from(path, 'utf8').toString('base64url') === token.slice(1)) return { path };
  }
  throw new MalformedMessageRefError('the folder part is not valid');
}

function positive(text: string, name: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(text) || Number(text) > 0xffffffff) throw new MalformedMessageRefError(`${name} must be a positive 32-bit integer`);
  return Number(text);
}

/** The parts of a ref; MalformedMessageRefError (naming the problem) when it is not one this service issued. */
export function parseMessageRef(ref: string): MessageRefParts {
  if (ref.length === 0) throw new MalformedMessageRefError('is empty');
  if (ref.length > MESSAGE_REF_MAX_LENGTH) throw new MalformedMessageRefError(`is longer than ${MESSAGE_REF_MAX_LENGTH} characters`);
  if (!/^[A-Za-z0-9._~-]+$/.test(ref)) throw new MalformedMessageRefError('holds characters a ref never has (use message.ref from the mail.received event as it is)');
  const parts = ref.split('.');
  const [version, tag] = parts;
  if (version !== 'i1' && version !== 'g1') throw new MalformedMessageRefError('is not a message ref (unknown kind or version)');
  if (!tag || !/^[A-Za-z0-9_-]{8}$/.test(tag)) throw new MalformedMessageRefError('the mailbox part is not valid');
  if (version === 'i1') {
    if (parts.length !== 5) throw new MalformedMessageRefError('an IMAP ref has five parts');
    return { kind: 'imap', mailboxTag: tag, folder: parseFolder(parts[2]), uidValidity: positive(parts[3], 'UIDVALIDITY'), uid: positive(parts[4], 'UID') };
  }
  if (parts.length !== 4 || parts[3] === '') throw new MalformedMessageRefError('a Graph ref has four parts');
  return { kind: 'graph', mailboxTag: tag, folder: parseFolder(parts[2]), messageId: unescapeId(parts[3]) };
}
