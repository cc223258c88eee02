import { BadRequestException } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SqlRunner } from '@app/events';
import { jsonBodyProblem, StrictValidationPipe } from '@app/http';
import { SendRequestDto } from '../dto/send-request.dto';
import { SEND_LIMITS } from '../dto/send-limits';
import { composeJsonStream } from '../mime/compose-json';
import { prepareRawHead } from '../mime/raw-message';
import { MessageTooLargeException } from '../send-errors';
import { MESSAGE_PART, SendContentRepository } from '../storage/send-content.repository';
import { readJsonBody, StreamedContent } from './json-intake';
import { RawMessageTransform } from './raw-intake';

const validation = new StrictValidationPipe();

/** A POST's body, unread: JSON or a raw message/rfc822, as a byte stream (request-body.ts). */
export interface SendBody {
  kind: 'json' | 'raw';
  stream: Readable;
}

/** What the intake stored (in the caller's transaction). */
export interface StoredMessage {
  requestHash: string;
  messageId: string;
  envelope: { from: string; to: string[] };
  size: number;
}

export interface IntakeTarget {
  sql: SqlRunner;
  sendId: string;
  mailboxEmail: string;
  messageId: string;
  maxBytes: number;
}

/**
 * What makes two requests "the same" for an Idempotency-Key: the raw bytes, or the JSON body (keys sorted)
 * with each attachment's content standing as the SHA-256 of its decoded bytes (computed as it streamed:
 * the content itself is never held).
 */
function jsonRequestHash(dto: SendRequestDto, contents: Map<number, StreamedContent>): string {
  const hashed = dto.attachments ? { ...dto, attachments: dto.attachments.map((a, index) => ({ ...a, content: `sha256:${contents.get(index)?.sha256 ?? ''}` })) } : dto;
  return createHash('sha256').update('json\0').update(canonicalJson(hashed)).digest('hex');
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

const RAW_HASH_PREFIX = 'raw\0';

/** The JSON body read and validated with the DTO's rules (every 400 names the field, as before). */
async function validatedJson(stream: Readable, target: IntakeTarget | null, maxBytes: number): Promise<{ dto: SendRequestDto; contents: Map<number, StreamedContent> }> {
  const { body, contents } = await readJsonBody(stream, {
    // Attachments past the DTO's limit are not stored: the validation below refuses the body anyway.
    openAttachment: (index) => (target && index < SEND_LIMITS.attachments ? SendContentRepository.writer(target.sql, target.sendId, index + 1) : null),
    maxAttachmentBytes: maxBytes,
    tooLarge: () => new MessageTooLargeException(null, maxBytes),
  });
  const problem = jsonBodyProblem(body);
  if (problem) throw new BadRequestException(problem);
  const dto = (await validation.transform(body, { type: 'body', metatype: SendRequestDto })) as SendRequestDto;
  return { dto, contents };
}

/** Fails with a 413 once more than `max` bytes went through. */
function sizeGuard(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > max) return done(new MessageTooLargeException(null, max));
      done(null, chunk);
    },
  });
}

/** The request hash only, nothing stored: an Idempotency-Key that names a send already (a JSON body is still validated, as before). */
export async function hashOnly(body: SendBody, maxBytes: number): Promise<string> {
  if (body.kind === 'raw') {
    const raw = new RawMessageTransform(null, RAW_HASH_PREFIX);
    await pipeline(body.stream, raw, new Writable({ write: (_chunk, _encoding, done) => done() }));
    return raw.sha256();
  }
  const { dto, contents } = await validatedJson(body.stream, null, maxBytes);
  return jsonRequestHash(dto, contents);
}

/**
 * Streams the message into `mail_send_chunks` (part 0) within `target.sql`'s transaction, never holding
 * it whole. JSON: the attachments' decoded bytes are staged as parts 1…n while the body is read (its
 * small fields may come after them), the body is validated, the MIME composed as a stream reading the
 * staged parts back, and the staged parts dropped. Raw: the header block prepared, the rest as it came.
 * Above `maxBytes` a 413 as soon as it is known; whatever was written is in the caller's transaction,
 * which its throw rolls back.
 */
export async function storeMessage(body: SendBody, target: IntakeTarget): Promise<StoredMessage> {
  const message = SendContentRepository.writer(target.sql, target.sendId, MESSAGE_PART);
  if (body.kind === 'raw') {
    const raw = new RawMessageTransform((headerBlock) => prepareRawHead(headerBlock, target.mailboxEmail, target.messageId), RAW_HASH_PREFIX);
    await pipeline(body.stream, raw, sizeGuard(target.maxBytes), message);
    return { requestHash: raw.sha256(), messageId: raw.prepared!.messageId, envelope: raw.prepared!.envelope, size: message.bytes };
  }
  const { dto, contents } = await validatedJson(body.stream, target, target.maxBytes);
  const composed = composeJsonStream(dto, { email: target.mailboxEmail }, target.messageId, (index) =>
    (contents.get(index)?.bytes ?? 0) > 0 ? SendContentRepository.reader(target.sql, target.sendId, index + 1) : Readable.from([]),
  );
  await pipeline(composed.stream, sizeGuard(target.maxBytes), message);
  await SendContentRepository.dropStaged(target.sql, target.sendId);
  return { requestHash: jsonRequestHash(dto, contents), messageId: composed.messageId, envelope: composed.envelope, size: message.bytes };
}
