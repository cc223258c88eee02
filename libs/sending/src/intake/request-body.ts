import { BadRequestException, HttpException, HttpStatus, RequestTimeoutException } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { errorBody } from '@app/http';

/** 415 for a Content-Encoding the outbox does not read (the API's general parsers say the same). */
class UnsupportedEncodingException extends HttpException {
  constructor() {
    super(errorBody(415, 'Content-Encoding is not supported: send identity, gzip, deflate or br'), HttpStatus.UNSUPPORTED_MEDIA_TYPE);
  }
}

/**
 * A body that stops arriving for this long is given up (408): its intake holds a Postgres connection and
 * an open transaction meanwhile, which a stalled client must not keep for Node's whole requestTimeout.
 */
export const BODY_IDLE_MS = 30_000;

/**
 * The request body as it arrives, decompressed as its Content-Encoding says, failing with `tooLarge()` as
 * soon as more than `limit` bytes came (counted after decompression: a small gzip cannot become a large
 * body). Nothing is buffered beyond the streams' own high-water marks.
 */
export function requestBody(req: IncomingMessage, limit: number, tooLarge: () => Error, idleMs = BODY_IDLE_MS): Readable {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  const decoders: Record<string, () => Transform> = { gzip: createGunzip, 'x-gzip': createGunzip, deflate: createInflate, br: createBrotliDecompress };
  if (encoding !== 'identity' && !decoders[encoding]) throw new UnsupportedEncodingException();
  let seen = 0;
  const idle = () => counted.destroy(new RequestTimeoutException(`Request body: nothing arrived for ${Math.round(idleMs / 1000)} s`));
  const timer = setTimeout(idle, idleMs);
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      timer.refresh();
      seen += chunk.length;
      if (seen > limit) return done(tooLarge());
      done(null, chunk);
    },
  });
  // Its consumer sees a failure through its own pipeline; before one reads it (the mailbox is checked first)
  // or after one gave up, a failure must not be an unheard 'error' that ends the process.
  counted.on('error', () => undefined);
  const stop = () => clearTimeout(timer);
  req.once('end', stop);
  counted.once('close', stop);
  const decoded = encoding === 'identity' ? req : req.pipe(decoders[encoding]());
  // A decoder's error (not the gzip it claims) ends the chain with it.
  if (decoded !== req) decoded.on('error', () => counted.destroy(new BadRequestException('Request body could not be decoded as its Content-Encoding says')));
  req.once('error', () => counted.destroy(new BadRequestException('Request body was cut off by the client')));
  req.on('close', () => {
    if (!req.complete) counted.destroy(new BadRequestException('Request body was cut off by the client'));
  });
  return decoded.pipe(counted);
}

/**
 * After an intake failed before reading the whole body: stop using it and let the rest drain, so the
 * client, still writing, gets to read the answer; the connection is not kept (what it still carries is
 * thrown away).
 */
export function drainAfterFailure(req: IncomingMessage, res: { setHeader(name: string, value: string): unknown; headersSent?: boolean }): void {
  req.unpipe();
  if (!req.complete) {
    if (!res.headersSent) res.setHeader('Connection', 'close');
    req.resume();
  }
}
