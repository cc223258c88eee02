import { randomBytes } from 'node:crypto';
import { Base64Decoder } from './base64-decoder';

/** The DTO's rule for a whole `content` (send-request.dto.ts), the reference the decoder must agree with. */
const WHOLE = (value: string) => /^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$/.test(value) && value.replace(/[\r\n]/g, '').length % 4 === 0;

function decodeInPieces(text: string, sizes: number[]): { valid: boolean; bytes: Buffer } {
  const decoder = new Base64Decoder();
  const parts: Buffer[] = [];
  let offset = 0;
  let turn = 0;
  while (offset < text.length) {
    const size = sizes[turn++ % sizes.length];
    parts.push(decoder.write(text.slice(offset, offset + size)));
    offset += size;
  }
  return { valid: decoder.end(), bytes: Buffer.concat(parts) };
}

describe('Base64Decoder', () => {
  it.each([0, 1, 2, 3, 4, 5, 1000, 65_537])('decodes %i random bytes split at any boundary, as Buffer.from does', (n) => {
    const data = randomBytes(n);
    const lines = (data.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
    for (const sizes of [[1], [3], [7, 1, 256], [100_000]]) {
      const { valid, bytes } = decodeInPieces(lines, sizes);
      expect(valid).toBe(true);
      expect(bytes.equals(data)).toBe(true);
    }
  });

  it.each(['not base64!', 'QQ', 'QQ=', 'QQ===', 'Q===', '====', 'QQ=A', 'QQ==QQ==', 'QUJD\r\nR', 'QU-D', 'QUJD\u00e9'])('agrees with the DTO rule on %j', (text) => {
    for (const sizes of [[1], [2], [100]]) expect(decodeInPieces(text, sizes).valid).toBe(WHOLE(text));
  });

  it.each(['', 'QQ==', 'QUI=', 'QUJD', 'QQ==\r\n', '\r\nQUJD\r\n'])('takes %j', (text) => {
    expect(WHOLE(text)).toBe(true);
    const { valid, bytes } = decodeInPieces(text, [1]);
    expect(valid).toBe(true);
    expect(bytes.equals(Buffer.from(text, 'base64'))).toBe(true);
  });
});
