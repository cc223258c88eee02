import { Transform, type Readable } from 'node:stream';
import type { ImapFlow, MessageStructureObject } from 'imapflow';
import type { ImapCredential, ImapEndpoint } from '@app/imap';
import { AttachmentNotFoundException, MailboxBusyException, MalformedRefException, MessageNotFoundException } from '../message-errors';
import type { MessageContent, MimeFields } from '../message.types';
import { parseMime } from '../mime-parse';
import { imapReadError } from '../read-failure';
import { ImapConnectionPool, ImapLease, ImapPoolBusyError } from './imap-connection.pool';

export interface ImapMessageTarget {
  mailboxId: string;
  endpoint: ImapEndpoint;
  credential: ImapCredential;
  folder: string;
  uidValidity: number;
  uid: number;
}

const PART_ID = /^[1-9][0-9]{0,3}(\.[1-9][0-9]{0,3}){0,15}$/;

/**
 * imapflow `download()` window: one partial FETCH per chunk, so a 100 KB message takes one round trip and
 * a 25 MB one ~100. At most a chunk or two is held at a time (backpressure from the client); 64 KiB
 * windows measured no lower peak RSS (bench:read) and a third of the throughput.
 */
const CHUNK_BYTES = 256 * 1024;

function findPart(node: MessageStructureObject, part: string): MessageStructureObject | null {
  if (node.part === part) return node;
  for (const child of node.childNodes ?? []) {
    const found = findPart(child, part);
    if (found) return found;
  }
  return null;
}

/**
 * Reads messages over the pooled, read-only sessions: EXAMINE (imapflow `mailboxOpen(path, { readOnly:
 * true })`) and imapflow's fetches and downloads, which ask for BODY.PEEK / BINARY.PEEK, so nothing is
 * marked \Seen. Raw messages and attachments are streamed chunk by chunk (partial FETCH, backpressure
 * from the client): the API holds one chunk, not the message.
 */
export class ImapMessageReader {
  constructor(private readonly pool: ImapConnectionPool) {}

  async parsed(target: ImapMessageTarget): Promise<MimeFields & { receivedAt: string | null }> {
    return this.withMessage(target, async (client) => {
      const meta = await this.fetchOne(client, target.uid, { uid: true, internalDate: true, size: true });
      const { content } = await client.download(String(target.uid), undefined, { uid: true, chunkSize: CHUNK_BYTES });
      if (!content) throw new MessageNotFoundException('it was expunged');
      const fields = await parseMime(content);
      const internalDate = meta.internalDate ? new Date(meta.internalDate) : null;
      return { ...fields, receivedAt: internalDate && !Number.isNaN(internalDate.getTime()) ? internalDate.toISOString() : null };
    });
  }

  /** The message as the server stores it (message/rfc822), streamed; the byte count is checked against RFC822.SIZE. */
  async raw(target: ImapMessageTarget): Promise<MessageContent> {
    return this.streamed(target, async (client) => {
      const { meta, content } = await client.download(String(target.uid), undefined, { uid: true, chunkSize: CHUNK_BYTES });
      if (!content) throw new MessageNotFoundException('it was expunged');
      return { content, contentType: 'message/rfc822', size: meta.expectedSize ?? null, filename: null, inline: false };
    });
  }

  /** One MIME part (BODYSTRUCTURE part number), decoded from its transfer encoding, streamed. */
  async attachment(target: ImapMessageTarget, attachmentId: string): Promise<MessageContent> {
    if (!PART_ID.test(attachmentId)) throw new MalformedRefException(`attachmentId: "${attachmentId.slice(0, 40)}" is not an attachment id of this service (a MIME part number such as 2 or 1.2)`);
    return this.streamed(target, async (client) => {
      const structure = (await this.fetchOne(client, target.uid, { uid: true, bodyStructure: true })).bodyStructure;
      const node = structure && (findPart(structure, attachmentId) ?? (attachmentId === '1' && !structure.childNodes ? structure : null));
      if (!node || node.childNodes) throw new AttachmentNotFoundException(attachmentId);
      const { meta, content } = await client.download(String(target.uid), attachmentId, { uid: true, chunkSize: CHUNK_BYTES });
      if (!content) throw new MessageNotFoundException('it was expunged');
      const filename = meta.filename || node.dispositionParameters?.filename || node.parameters?.name || null;
      const contentType = (meta.contentType || node.type || 'application/octet-stream') + (meta.charset ? `; charset=${meta.charset}` : '');
      return { content, contentType, size: null, filename, inline: (meta.disposition || node.disposition) === 'inline' };
    });
  }

  /** Opens the folder read-only on a pooled session and checks the ref's UIDVALIDITY; the session is given back afterwards. */
  private async withMessage<T>(target: ImapMessageTarget, work: (client: ImapFlow) => Promise<T>, fresh = false): Promise<T> {
    const lease = await this.open(target, fresh);
    try {
      const value = await work(lease.client);
      lease.release(true);
      return value;
    } catch (error) {
      const known = error instanceof MessageNotFoundException || error instanceof AttachmentNotFoundException;
      lease.release(known);
      if (!known && lease.reused && !fresh) return this.withMessage(target, work, true);
      throw known ? error : imapReadError(error);
    }
  }

  /**
   * Like withMessage, but the session stays lent until the content is over: given back for reuse when
   * it ended complete, logged out when it failed or the client went away (the FETCH may still be running).
   */
  private async streamed(target: ImapMessageTarget, start: (client: ImapFlow) => Promise<MessageContent>, fresh = false): Promise<MessageContent> {
    const lease = await this.open(target, fresh);
    let started: MessageContent;
    try {
      started = await start(lease.client);
    } catch (error) {
      const known = error instanceof MessageNotFoundException || error instanceof AttachmentNotFoundException;
      lease.release(known);
      if (!known && lease.reused && !fresh) return this.streamed(target, start, true);
      throw known ? error : imapReadError(error);
    }
    return { ...started, content: guarded(started.content, started.size, lease) };
  }

  /**
   * A pooled session that fails on its first command is dropped and the read starts once more on a new
   * one: Dovecot ends a session whose selected folder changed UIDVALIDITY (BYE "state is inconsistent").
   */
  private async open(target: ImapMessageTarget, fresh = false): Promise<ImapLease> {
    let lease: ImapLease;
    try {
      lease = await this.pool.acquire(target.mailboxId, target.endpoint, target.credential, fresh);
    } catch (error) {
      if (error instanceof ImapPoolBusyError) throw new MailboxBusyException(error.message);
      throw imapReadError(error);
    }
    try {
      const client = lease.client;
      const current = client.mailbox;
      const mailbox = current && current.path === target.folder && current.readOnly ? current : await client.mailboxOpen(target.folder, { readOnly: true });
      if (BigInt(mailbox.uidValidity) !== BigInt(target.uidValidity)) {
        lease.release(true);
        throw new MessageNotFoundException(`the folder's UIDVALIDITY changed (${target.uidValidity} → ${mailbox.uidValidity}): the server renumbered its messages`);
      }
      return lease;
    } catch (error) {
      if (error instanceof MessageNotFoundException) throw error;
      const missingFolder = /NONEXISTENT|doesn't exist|does not exist|Mailbox not found/i.test(String((error as { responseText?: string }).responseText ?? (error as Error).message));
      lease.release(missingFolder);
      if (lease.reused && !missingFolder && !fresh) return this.open(target, true);
      // (a session from the pool that fails later, on its first FETCH, is retried the same way by the callers)
      if (missingFolder) throw new MessageNotFoundException(`the folder ${target.folder} no longer exists`);
      throw imapReadError(error);
    }
  }

  /** FETCH one UID; a session that had the folder open may not have seen the message arrive yet: a NOOP, then once more. */
  private async fetchOne(client: ImapFlow, uid: number, query: Parameters<ImapFlow['fetchOne']>[1]) {
    let message = await client.fetchOne(String(uid), query, { uid: true });
    if (!message) {
      await client.noop();
      message = await client.fetchOne(String(uid), query, { uid: true });
    }
    if (!message) throw new MessageNotFoundException('it was expunged or never existed in this folder');
    return message;
  }
}

/**
 * The content as the client gets it: errors when the source fails or ends short of `size` (so the
 * response is cut, never completed), and gives the session back once it is over.
 */
function guarded(source: Readable, size: number | null, lease: ImapLease): Readable {
  let bytes = 0;
  let finished = false;
  const out = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      if (size !== null && bytes !== size) return done(new Error(`The mail server ended the message after ${bytes} of ${size} bytes`));
      finished = true;
      lease.release(true);
      done();
    },
  });
  source.on('error', (error) => out.destroy(error));
  out.on('close', () => {
    if (!finished) {
      lease.release(false);
      source.destroy();
    }
  });
  return source.pipe(out);
}
