import { gzipSync } from 'node:zlib';
import { bodyFieldsOf, valueAt, withValueAt } from './body-fields';
import { CaseFactory } from './case-factory';
import { FuzzCase } from './fuzz-case';
import { toJsonText } from './json-text';

/** Byte sequences that are not UTF-8: a stray byte, a truncated pair, an overlong slash, a CESU-8 surrogate. */
const INVALID_UTF8: [string, number[]][] = [
  ['0xFF', [0xff]],
  ['a truncated 2-byte sequence', [0xc3, 0x28]],
  ['an overlong "/"', [0xc0, 0xaf]],
  ['an encoded surrogate (CESU-8)', [0xed, 0xa0, 0x80]],
];

/** The valid body as text with `bytes` inside its first string value (JSON bodies only). */
function withBytesInAString(factory: CaseFactory, bytes: number[]): Buffer | undefined {
  const valid = factory.validBody();
  const field = bodyFieldsOf(factory.operation.body ?? {}).find((candidate) => typeof valueAt(valid, candidate.steps) === 'string');
  if (!field) return undefined;
  const marker = 'FUZZ-BYTES-GO-HERE';
  const [before, after] = toJsonText(withValueAt(valid, field.steps, marker)).split(marker);
  return Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);
}

/** A flat form encoding of the body, as an HTML form would post it (nested values as JSON text). */
function formEncoded(body: unknown): Buffer {
  const entries = body !== null && typeof body === 'object' ? Object.entries(body) : [];
  return Buffer.from(new URLSearchParams(entries.map(([key, value]): [string, string] => [key, typeof value === 'string' ? value : JSON.stringify(value)])).toString());
}

/** Content-Encoding, charset, UTF-8 and Content-Type variations of the valid request. */
export function transportCases(factory: CaseFactory): FuzzCase[] {
  if (!factory.operation.body) return bodilessCases(factory);
  const valid = factory.validBody();
  const text = Buffer.from(toJsonText(valid));
  // Where the receiver reads any Content-Type as JSON, only what is not JSON must be refused.
  const strictMedia = factory.setup.lenient?.mediaTypes !== true;
  const cases: FuzzCase[] = [
    factory.make('Content-Encoding: gzip, body not gzip', { rawBody: text, headers: { 'content-encoding': 'gzip' }, mustReject: true }),
    factory.make('Content-Encoding: deflate, body not deflate', { rawBody: text, headers: { 'content-encoding': 'deflate' }, mustReject: true }),
    factory.make('Content-Encoding: br, body not brotli', { rawBody: text, headers: { 'content-encoding': 'br' }, mustReject: true }),
    factory.make('Content-Encoding: gzip, empty body', { rawBody: Buffer.alloc(0), headers: { 'content-encoding': 'gzip' }, mustReject: true }),
    factory.make('Content-Encoding: gzip, truncated gzip', { rawBody: gzipSync(text).subarray(0, 12), headers: { 'content-encoding': 'gzip' }, mustReject: true }),
    factory.make('Content-Encoding: x-fuzz (unknown)', { rawBody: text, headers: { 'content-encoding': 'x-fuzz' }, mustReject: true }),
    factory.make('Content-Encoding: gzip, real gzip', { rawBody: gzipSync(text), headers: { 'content-encoding': 'gzip' }, mustReject: false }),
    factory.make('Content-Type: application/json; charset=utf-8', { rawBody: text, headers: { 'content-type': 'application/json; charset=utf-8' }, mustReject: false }),
    factory.make('Content-Type: APPLICATION/JSON', { rawBody: text, headers: { 'content-type': 'APPLICATION/JSON' }, mustReject: false }),
    factory.make('Content-Type: application/json; charset=latin1', { rawBody: text, headers: { 'content-type': 'application/json; charset=latin1' }, mustReject: strictMedia }),
    factory.make('Content-Type: application/json; charset=fuzz-bogus', { rawBody: text, headers: { 'content-type': 'application/json; charset=fuzz-bogus' }, mustReject: strictMedia }),
    factory.make('Content-Type: application/json; charset=utf-16le, body UTF-16', {
      rawBody: Buffer.from(text.toString('utf8'), 'utf16le'),
      headers: { 'content-type': 'application/json; charset=utf-16le' },
      mustReject: strictMedia,
    }),
    factory.make('Content-Type: application/x-www-form-urlencoded', { rawBody: formEncoded(valid), headers: { 'content-type': 'application/x-www-form-urlencoded' }, mustReject: true }),
    factory.make('Content-Type: multipart/form-data', {
      rawBody: Buffer.from(`--fuzz\r\nContent-Disposition: form-data; name="body"\r\n\r\n${text}\r\n--fuzz--\r\n`),
      headers: { 'content-type': 'multipart/form-data; boundary=fuzz' },
      mustReject: true,
    }),
    factory.make('Content-Type: text/plain, body JSON', { rawBody: text, headers: { 'content-type': 'text/plain' }, mustReject: strictMedia }),
    factory.make('Content-Type: none, body JSON', { rawBody: text, headers: { 'content-type': undefined }, mustReject: strictMedia }),
    factory.make('Content-Type: application/xml', { rawBody: Buffer.from('<fuzz/>'), headers: { 'content-type': 'application/xml' }, mustReject: true }),
  ];
  for (const [label, bytes] of INVALID_UTF8) {
    const body = withBytesInAString(factory, bytes);
    if (body) cases.push(factory.make(`invalid UTF-8 in a string: ${label}`, { rawBody: body, mustReject: strictMedia }));
  }
  return cases;
}

/** Operations without a body get one anyway: it must be ignored or refused, never a 5xx. */
function bodilessCases(factory: CaseFactory): FuzzCase[] {
  const secret = factory.options.secret;
  return [
    factory.make('unexpected JSON body with an unknown key', { body: { fuzzUnknownField: 1 }, mustReject: false }),
    factory.make('unexpected JSON body with a NUL character', { body: { fuzz: `${secret}\u0000` }, mustReject: false }),
    factory.make('unexpected form body', { rawBody: Buffer.from(`password=${secret}`), headers: { 'content-type': 'application/x-www-form-urlencoded' }, mustReject: false }),
    factory.make('unexpected body, Content-Encoding: gzip, not gzip', { rawBody: Buffer.from('{}'), headers: { 'content-encoding': 'gzip' }, mustReject: false }),
    factory.make('unexpected malformed JSON body around a secret', { rawBody: Buffer.from(`{"password": ${secret} ${secret}}`), mustReject: false }),
  ];
}
