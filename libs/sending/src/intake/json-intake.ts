import { BadRequestException } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { pipeline, Readable, Transform, Writable } from 'node:stream';
import Parser from 'stream-json/Parser';
import { childPath, MAX_JSON_DEPTH } from '@app/http';
import { InvalidMessageException } from '../send-errors';
import { Base64Decoder } from './base64-decoder';

/** What the DTO's base64 rule refuses: an attachment whose content was not base64 gets it in its place. */
export const NOT_BASE64 = '!';

/** One attachment's content as it streamed by: where it went, its decoded size and SHA-256. */
export interface StreamedContent {
  index: number;
  bytes: number;
  sha256: string;
  valid: boolean;
}

export interface JsonIntakeOptions {
  /** Where attachment `index`'s decoded bytes go; null: nowhere (only hashed, e.g. an Idempotency-Key replay). */
  openAttachment: (index: number) => Writable | null;
  /** Decoded attachment bytes above this are a `tooLarge()` at once (the message would be larger still). */
  maxAttachmentBytes: number;
  tooLarge: () => Error;
}

export interface JsonIntakeResult {
  /** The body as JSON.parse would give it, every attachment `content` string replaced: '' when it was base64, NOT_BASE64 when not. */
  body: unknown;
  /** By attachment index. */
  contents: Map<number, StreamedContent>;
}

/** Base64 characters decoded at once (48 KB of bytes). */
const DECODE_BATCH = 64 * 1024;

/** An `attachments[i].content` string being read. */
interface StreamingContent {
  index: number;
  decoder: Base64Decoder;
  hash: ReturnType<typeof createHash>;
  bytes: number;
  target: Writable | null;
  /** Pieces not decoded yet. */
  pending: string[];
  pendingLength: number;
}

interface Frame {
  container: Record<string, unknown> | unknown[];
  key?: string;
}

interface Token {
  name: string;
  value?: string;
}

/** UTF-8 checked strictly as it streams (invalid bytes are a 400, as the API's JSON parser has it), passed on as text. */
function strictUtf8(): Transform {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const fail = () => new BadRequestException('Request body is not valid UTF-8');
  return new Transform({
    readableObjectMode: false,
    transform(chunk: Buffer, _encoding, done) {
      try {
        done(null, decoder.decode(chunk, { stream: true }));
      } catch {
        done(fail());
      }
    },
    flush(done) {
      try {
        done(null, decoder.decode());
      } catch {
        done(fail());
      }
    },
  });
}

async function writeTo(target: Writable, bytes: Buffer): Promise<void> {
  if (!target.write(bytes)) await once(target, 'drain');
}

async function endOf(target: Writable): Promise<void> {
  const done = once(target, 'finish');
  target.end();
  await done;
}

/** Defines like JSON.parse does: `__proto__` becomes an own key (json-hygiene refuses it by name later), never the prototype. */
function put(container: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(container, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Reads `POST …/outbox`'s JSON body as a stream (stream-json's tokenizer, strings unpacked): every value is
 * assembled as JSON.parse would, except each `attachments[i].content` string, which is base64-decoded as
 * its pieces arrive and written to `openAttachment(i)` without ever being held whole. The small fields
 * are then validated by the caller with the DTO's rules, as before.
 */
export async function readJsonBody(source: Readable, options: JsonIntakeOptions): Promise<JsonIntakeResult> {
  const parser = new Parser({ packKeys: true, streamKeys: false, packStrings: false, streamStrings: true, packNumbers: true, streamNumbers: false });
  // pipeline: the first error anywhere (also one the body had before it was read) ends the tokens with it.
  const tokens = pipeline(source, strictUtf8(), parser, () => undefined);
  const contents = new Map<number, StreamedContent>();
  const stack: Frame[] = [];
  let root: unknown = undefined;
  let text: string[] | null = null;
  let attachment: StreamingContent | null = null;
  let decodedTotal = 0;
  const decodePending = async (content: StreamingContent): Promise<void> => {
    if (content.pendingLength === 0) return;
    const bytes = content.decoder.write(content.pending.join(''));
    content.pending = [];
    content.pendingLength = 0;
    if (bytes.length === 0) return;
    content.hash.update(bytes);
    content.bytes += bytes.length;
    decodedTotal += bytes.length;
    if (decodedTotal > options.maxAttachmentBytes) throw options.tooLarge();
    if (content.target) await writeTo(content.target, bytes);
  };
  let sawAttachments = false;
  let seenAny = false;

  const place = (value: unknown): void => {
    const top = stack[stack.length - 1];
    if (!top) root = value;
    else if (Array.isArray(top.container)) top.container.push(value);
    else put(top.container, top.key!, value);
  };
  /** The path of the value being placed (`to[0].address`), as json-hygiene names it. */
  const pathHere = (): string =>
    stack.reduce((path, frame) => childPath(path, Array.isArray(frame.container) ? frame.container.length - 1 : frame.key!), '');
  const open = (container: Record<string, unknown> | unknown[]): void => {
    place(container);
    if (stack.length >= MAX_JSON_DEPTH) throw new InvalidMessageException(`${pathHere() || 'body'}: nested deeper than ${MAX_JSON_DEPTH} levels`);
    stack.push({ container });
  };
  /** `attachments[i].content` of the root object: the one string streamed rather than assembled. */
  const contentIndex = (): number | null => {
    if (stack.length !== 3 || stack[0].key !== 'attachments' || !Array.isArray(stack[1].container) || Array.isArray(stack[2].container) || stack[2].key !== 'content') return null;
    return stack[1].container.length - 1;
  };

  try {
    for await (const token of tokens as AsyncIterable<Token>) {
      seenAny = true;
      switch (token.name) {
        case 'startObject':
          open({});
          break;
        case 'startArray':
          open([]);
          break;
        case 'endObject':
        case 'endArray':
          stack.pop();
          break;
        case 'keyValue': {
          const top = stack[stack.length - 1];
          if (stack.length === 1 && token.value === 'attachments') {
            // A second `attachments` would replace the first, whose contents are already stored.
            if (sawAttachments) throw new InvalidMessageException('attachments: given twice in the body');
            sawAttachments = true;
          }
          top.key = token.value;
          break;
        }
        case 'startString': {
          const index = contentIndex();
          if (index === null) text = [];
          else {
            const target = options.openAttachment(index);
            // Storage failing (Postgres) ends the read with its error; no 'error' goes unheard.
            target?.on('error', (error) => parser.destroy(error));
            attachment = { index, decoder: new Base64Decoder(), hash: createHash('sha256'), bytes: 0, target, pending: [], pendingLength: 0 };
          }
          break;
        }
        case 'stringChunk':
          if (text) text.push(token.value!);
          else if (attachment) {
            // stream-json cuts strings into pieces of at most 256 characters: decoded a batch at a time.
            attachment.pending.push(token.value!);
            attachment.pendingLength += token.value!.length;
            if (attachment.pendingLength >= DECODE_BATCH) await decodePending(attachment);
          }
          break;
        case 'endString':
          if (attachment) {
            await decodePending(attachment);
            const valid = attachment.decoder.end();
            if (attachment.target) await endOf(attachment.target);
            contents.set(attachment.index, { index: attachment.index, bytes: attachment.bytes, sha256: attachment.hash.digest('hex'), valid });
            place(valid ? '' : NOT_BASE64);
            attachment = null;
          } else {
            place(text!.join(''));
            text = null;
          }
          break;
        case 'numberValue':
          place(Number(token.value));
          break;
        case 'nullValue':
          place(null);
          break;
        case 'trueValue':
          place(true);
          break;
        case 'falseValue':
          place(false);
          break;
      }
    }
  } catch (error) {
    attachment?.target?.destroy();
    // stream-json's messages say what was expected, never quoting the input.
    const syntax = error instanceof Error && !('getStatus' in error) ? /^Parser (?:cannot parse input: |has )(.*)$/.exec(error.message) : null;
    if (syntax) throw new BadRequestException(`Malformed JSON body: ${syntax[1]}`);
    throw error;
  }
  if (root === undefined && !seenAny) throw new BadRequestException('Request body must be a JSON object sent with Content-Type: application/json');
  if (root === undefined || stack.length > 0) throw new BadRequestException('Malformed JSON body: it ends too early');
  return { body: root, contents };
}
