import { createHash } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';
import { headerEnd, PreparedHead } from '../mime/raw-message';
import { InvalidMessageException } from '../send-errors';

/** A header block is held whole until its end: beyond this it is not a header block (500 recipients take ~50 KB). */
const HEADER_BLOCK_MAX = 1024 * 1024;

/**
 * A raw `message/rfc822` body on its way into storage: the header block is held until its end is seen (it
 * has to be read whole to take Bcc out and check From), goes out as `prepare` makes it, and the rest
 * streams through byte for byte. Everything that comes in is hashed (the Idempotency-Key's request hash).
 * `prepare` null: only the hash (an Idempotency-Key replay), nothing passed on.
 */
export class RawMessageTransform extends Transform {
  prepared: PreparedHead | null = null;
  private readonly hash;
  private head: Buffer[] = [];
  private headBytes = 0;
  private searched = 0;

  constructor(
    private readonly prepare: ((headerBlock: string) => PreparedHead) | null,
    hashPrefix: string,
  ) {
    super();
    this.hash = createHash('sha256').update(hashPrefix);
  }

  sha256(): string {
    return this.hash.digest('hex');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    if (!this.prepare) return done();
    if (this.prepared) return done(null, chunk);
    try {
      this.head.push(chunk);
      this.headBytes += chunk.length;
      const whole = Buffer.concat(this.head, this.headBytes);
      const text = whole.toString('latin1');
      // From a little before the new bytes: the empty line may straddle two chunks.
      const from = Math.max(0, this.searched - 3);
      const end = headerEnd(text.slice(from));
      if (end < 0) {
        if (this.headBytes > HEADER_BLOCK_MAX) throw new InvalidMessageException(`body: no end of the header block (an empty line) in the first ${HEADER_BLOCK_MAX} bytes`);
        this.head = [whole];
        this.searched = text.length;
        return done();
      }
      this.prepared = this.prepare(text.slice(0, from + end));
      this.head = [];
      this.push(this.prepared.head);
      done(null, whole.subarray(from + end));
    } catch (error) {
      done(error as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    if (this.prepare && !this.prepared) return done(new InvalidMessageException('body: a message/rfc822 body needs a header block ended by an empty line'));
    done();
  }
}
