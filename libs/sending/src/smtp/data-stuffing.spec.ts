import { randomBytes, randomInt } from 'node:crypto';
import DataStream from 'nodemailer/lib/smtp-connection/data-stream';
import { nodemailerTransform, stuffData, useFastDataStuffing } from './data-stuffing';

/** `chunks` through a DataStream whose `_transform` is `transform`: the bytes out and its counts. */
async function encode(transform: unknown, chunks: Buffer[]): Promise<{ out: Buffer; inBytes: number; outBytes: number }> {
  const stream = new DataStream();
  (stream as unknown as { _transform: unknown })._transform = transform;
  const out: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = new Promise((resolve) => stream.on('end', resolve));
  for (const chunk of chunks) stream.write(chunk);
  stream.end();
  await ended;
  return { out: Buffer.concat(out), inBytes: stream.inByteCount, outBytes: stream.outByteCount };
}

function cut(message: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < message.length; ) {
    const size = randomInt(0, 12);
    chunks.push(message.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/** Bytes rich in what dot-stuffing looks at: CR, LF, dots, and text between. */
function tricky(length: number): Buffer {
  const alphabet = Buffer.from('\r\n.\r\n.a.\r');
  return Buffer.from(Array.from({ length }, () => (randomInt(0, 3) === 0 ? randomInt(0, 256) : alphabet[randomInt(0, alphabet.length)])));
}

useFastDataStuffing();
const fast = (DataStream.prototype as unknown as { _transform: unknown })._transform;

describe('stuffData (SMTP DATA encoding)', () => {
  it('is installed as DataStream._transform', () => {
    expect((DataStream.prototype as unknown as { _transform: unknown })._transform).not.toBe(nodemailerTransform);
  });

  it.each([
    ['a dot first', '.hidden\r\n'],
    ['a dot after CRLF', 'a\r\n.b\r\n..c\r\n'],
    ['bare LFs', 'a\nb\n.c\n'],
    ['bare CRs (smuggling)', 'a\r.\rb\r\r\n'],
    ['CRLF only', 'Subject: x\r\n\r\nbody\r\n'],
    ['ends in CR', 'a\r'],
    ['ends in LF', 'a\n'],
    ['empty', ''],
  ])('gives what nodemailer gives: %s, whole and byte by byte', async (_name, text) => {
    const message = Buffer.from(text, 'latin1');
    const expected = await encode(nodemailerTransform, [message]);
    expect(await encode(fast, [message])).toEqual(expected);
    const bytes = [...message].map((byte) => Buffer.from([byte]));
    expect(await encode(fast, bytes)).toEqual(await encode(nodemailerTransform, bytes));
  });

  it('gives what nodemailer gives on random messages cut at random', async () => {
    for (let round = 0; round < 300; round++) {
      const message = round % 3 === 0 ? randomBytes(randomInt(0, 400)) : tricky(randomInt(0, 400));
      const chunks = cut(message);
      expect(await encode(fast, chunks)).toEqual(await encode(nodemailerTransform, chunks));
    }
  });

  it('returns a chunk with nothing to change as it is (no copy)', () => {
    const chunk = Buffer.from('line one\r\nline two\r\n');
    expect(stuffData(chunk, 0x0a)).toBe(chunk);
  });
});
