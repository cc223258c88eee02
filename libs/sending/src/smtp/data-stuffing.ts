import { TransformCallback } from 'node:stream';
import DataStream from 'nodemailer/lib/smtp-connection/data-stream';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
// The bytes inserted into the output, shared: Buffer.concat only copies them.
const INSERT_LF = Buffer.from('\n');
const INSERT_LF_DOT = Buffer.from('\n.');
const INSERT_CR = Buffer.from('\r');
const INSERT_DOT = Buffer.from('.');

/** The byte before a chunk: the last byte of the previous one, or `false` at the start of the message. */
export type PreviousByte = number | false;

/**
 * SMTP DATA encoding of one chunk of a message, with exactly the output of nodemailer's DataStream
 * `_transform` (smtp-connection/data-stream.js): a bare CR or bare LF becomes CRLF, a dot at the start of
 * a line (and after a bare CR: SMTP smuggling) is doubled. `previous`: the byte before the chunk.
 *
 * Why not nodemailer's own loop: it looks at every byte in JavaScript (6.5–6.8 ms CPU for a 1.4 MB message
 * at load 3.9, 12–22 ms at load 5–6, against 1.7–1.8 ms here: bench/send/data-stuffing.ts; it was the
 * largest single cost of a send in the worker's profile). Only the bytes around line ends can change
 * anything, so this finds the CRs and LFs with Buffer.indexOf (memchr) and looks at their neighbours:
 * per line, not per byte. data-stuffing.spec.ts checks it against nodemailer's on random input.
 */
export function stuffData(chunk: Buffer, previous: PreviousByte): Buffer {
  const length = chunk.length;
  if (length === 0) return chunk;
  let parts: Buffer[] | null = null;
  let partsLength = 0;
  let copied = 0;
  const insert = (at: number, bytes: Buffer) => {
    parts ??= [];
    if (at > copied) {
      parts.push(chunk.subarray(copied, at));
      partsLength += at - copied;
    }
    parts.push(bytes);
    partsLength += bytes.length;
    copied = at;
  };
  // The first byte, whose neighbour is the previous chunk's last (an LF here is handled with the others).
  const first = chunk[0];
  if (previous === CR && first !== LF) insert(0, first === DOT ? INSERT_LF_DOT : INSERT_LF);
  else if (first === DOT && (previous === LF || previous === false)) insert(0, INSERT_DOT);
  // The CRs and LFs in order, found by Buffer.indexOf (memchr): the bytes between them need no look.
  let nextCr = chunk.indexOf(CR);
  let nextLf = chunk.indexOf(LF);
  while (nextCr >= 0 || nextLf >= 0) {
    if (nextLf < 0 || (nextCr >= 0 && nextCr < nextLf)) {
      // A CR: the byte after it, when it is in this chunk (else the next chunk's first byte above).
      const at = nextCr + 1;
      if (at < length && chunk[at] !== LF) insert(at, chunk[at] === DOT ? INSERT_LF_DOT : INSERT_LF);
      nextCr = chunk.indexOf(CR, at);
    } else {
      // An LF: a CR before it unless there is one; a dot after it doubled.
      const at = nextLf;
      if ((at > 0 ? chunk[at - 1] : previous) !== CR) insert(at, INSERT_CR);
      if (at + 1 < length && chunk[at + 1] === DOT) insert(at + 1, INSERT_DOT);
      nextLf = chunk.indexOf(LF, at + 1);
    }
  }
  if (parts === null) return chunk;
  const list = parts as Buffer[];
  if (copied < length) {
    list.push(chunk.subarray(copied));
    partsLength += length - copied;
  }
  return Buffer.concat(list, partsLength);
}

/** What DataStream keeps between chunks (its own fields: SMTPConnection reads the byte counts). */
interface DataStreamState {
  inByteCount: number;
  outByteCount: number;
  lastByte: PreviousByte;
  push(chunk: Buffer): boolean;
}

/** nodemailer's own `_transform`, kept for the spec that compares the two. */
export const nodemailerTransform = DataStream.prototype._transform;

/** DataStream's `_transform` with stuffData: its fields kept as nodemailer keeps them. */
function transform(this: DataStreamState, chunk: Buffer | string, _encoding: BufferEncoding, done: TransformCallback): void {
  if (!chunk || !chunk.length) return done();
  const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  this.inByteCount += bytes.length;
  const out = stuffData(bytes, this.lastByte);
  this.outByteCount += out.length;
  this.push(out);
  this.lastByte = bytes[bytes.length - 1];
  done();
}

/**
 * Every SMTPConnection of this process encodes DATA with stuffData (see there for why): nodemailer
 * creates its DataStream inside `send` with no way to pass another, so its `_transform` is replaced, once.
 */
export function useFastDataStuffing(): void {
  (DataStream.prototype as unknown as { _transform: typeof transform })._transform = transform;
}
