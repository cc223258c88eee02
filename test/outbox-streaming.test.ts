/**
 * The outbox's streaming intake on the real API (real Postgres and Redis): what it stores is what the
 * whole-in-memory composer made for the same input, byte for byte, in ordered chunks with the staged
 * attachments gone; a body cut off midway, or found too large midway, leaves nothing behind.
 * The request-level rules (400s, 409, 413, Idempotency-Key): outbox.api.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { CHUNK_BYTES, composeJson, OutboxRepository, SendRequestDto } from '@app/sending';
import { prepareRawMessage } from '../libs/sending/src/mime/raw-message';
import { RunningApi, useApiSuite } from '@app/testing';
import { queryDatabase } from '../libs/testing/src/test-database';

const MAX_BYTES = 4 * 1024 * 1024;

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('outbox streaming intake', () => {
  const suite = useApiSuite({ SEND_MAX_BYTES: String(MAX_BYTES) });
  let api: RunningApi;
  let mailbox: string;
  let repository: OutboxRepository;

  const post = (body: object | string | Buffer, headers: Record<string, string> = {}) => {
    const request = api.http.post(`/v1/mailboxes/${mailbox}/outbox`).set(api.auth);
    for (const [name, value] of Object.entries(headers)) request.set(name, value);
    return request.send(body);
  };
  const sql = <T extends Record<string, unknown>>(text: string, params: unknown[] = []) => queryDatabase<T>(suite.db.url, text, params);
  const chunkCount = async () => Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM mail_send_chunks`))[0].n);
  const sendCount = async () => Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM mail_sends`))[0].n);

  beforeAll(async () => {
    api = suite.api;
    await api.http.post('/v1/providers').set(api.auth).send({ name: 'Sends', type: 'imap', host: 'mail.send.example', sendEmails: true, domains: ['send.example'] }).expect(201);
    mailbox = (await api.http.post('/v1/mailboxes').set(api.auth).send({ email: 'ana@send.example', password: 'pw' }).expect(201)).body.id;
    repository = api.app.get(OutboxRepository);
  });

  it('stores exactly the bytes the whole-in-memory composer makes, in ordered chunks, staged attachments gone', async () => {
    const pdf = randomBytes(CHUNK_BYTES * 2 + 12_345);
    const body = {
      to: ['Ben <ben@contoso.com>'],
      bcc: ['dan@contoso.com'],
      subject: 'Angebot für Sie ✓',
      text: 'Grüße\nline two',
      html: '<p>Grüße</p>',
      headers: { 'X-CRM-Ticket': '4711' },
      attachments: [
        // Line-broken base64, as some clients send it.
        { filename: 'offer.pdf', contentType: 'application/pdf', content: (pdf.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n') },
        { filename: 'notes.txt', contentType: 'text/plain', content: Buffer.from('plain text attachment\n').toString('base64') },
        { filename: 'empty.bin', content: '' },
      ],
    };
    const res = await post(body).expect(202);
    const [send] = await sql<{ size: number; message_id: string }>(`SELECT size, message_id FROM mail_sends WHERE id = $1`, [res.body.id]);
    const chunks = await sql<{ part: number; seq: number; n: number }>(`SELECT part, seq, length(data) AS n FROM mail_send_chunks WHERE send_id = $1 ORDER BY part, seq`, [res.body.id]);
    expect(chunks.every((chunk) => chunk.part === 0)).toBe(true);
    expect(chunks.map((chunk) => chunk.seq)).toEqual(chunks.map((_chunk, index) => index));
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.slice(0, -1).every((chunk) => chunk.n === CHUNK_BYTES)).toBe(true);
    expect(chunks.reduce((sum, chunk) => sum + chunk.n, 0)).toBe(send.size);

    const stored = (await repository.content(res.body.id))!;
    expect(stored.length).toBe(send.size);
    const streamed: Buffer[] = [];
    for await (const piece of repository.contentStream(res.body.id)) streamed.push(piece as Buffer);
    expect(Buffer.concat(streamed).equals(stored)).toBe(true);

    // The same input through the old composer, with the Date and multipart boundary the stored one got.
    const text = stored.toString('latin1');
    const date = new Date(/^Date: (.+)$/m.exec(text)![1]);
    const baseBoundary = /boundary="--_NmP-([0-9a-f]+)-Part_/.exec(text)![1];
    const expected = await composeJson(body as unknown as SendRequestDto, { email: 'ana@send.example' }, send.message_id, { date, baseBoundary });
    expect(stored.toString('latin1')).toBe(expected.raw.toString('latin1'));
    expect(stored.equals(expected.raw)).toBe(true);
    expect(text).not.toMatch(/^Bcc:/im);
  });

  it('stores a raw message/rfc822 as the in-memory preparation does, header block split across chunks included', async () => {
    const raw = Buffer.concat([Buffer.from('To: ben@contoso.com\r\nBcc: dan@contoso.com\r\nSubject: Raw\r\n\r\n'), Buffer.from(randomBytes(CHUNK_BYTES + 999).toString('base64'))]);
    const res = await post(raw, { 'Content-Type': 'message/rfc822' }).expect(202);
    const [send] = await sql<{ message_id: string }>(`SELECT message_id FROM mail_sends WHERE id = $1`, [res.body.id]);
    const stored = (await repository.content(res.body.id))!;
    expect(stored.equals(prepareRawMessage(raw, 'ana@send.example', send.message_id).raw)).toBe(true);
  });

  it('reads a gzip-encoded JSON body, and answers one that is not gzip', async () => {
    // Plain node:http: supertest does not send a Buffer body under a Content-Encoding header.
    const postZipped = (zipped: Buffer) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = httpRequest(new URL(`/v1/mailboxes/${mailbox}/outbox`, api.url), {
          method: 'POST',
          headers: { ...api.auth, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'Content-Length': String(zipped.length) },
        });
        request.on('error', reject);
        request.on('response', (res) => {
          const parts: Buffer[] = [];
          res.on('data', (part: Buffer) => parts.push(part)).on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(parts).toString() }));
        });
        request.end(zipped);
      });
    const answer = await postZipped(gzipSync(JSON.stringify({ to: ['ben@contoso.com'], subject: 'Zipped', text: 'z' })));
    expect(answer.status).toBe(202);
    expect((await repository.content(JSON.parse(answer.body).id))!.toString()).toMatch(/^Subject: Zipped$/m);
    // Not gzip at all (here: nothing), failing before the intake reads it: a 400, not a hang (found by api-fuzz).
    const empty = await postZipped(Buffer.alloc(0));
    expect(empty.status).toBe(400);
    expect(JSON.parse(empty.body).message).toMatch(/Content-Encoding/);
  });

  it('a message found too large midway is a 413 and leaves no rows', async () => {
    const chunksBefore = await chunkCount();
    const sendsBefore = await sendCount();
    // Decoded attachments alone above the limit: refused as soon as that is known.
    const big = await post({ to: ['ben@contoso.com'], attachments: [{ filename: 'a.bin', content: randomBytes(MAX_BYTES + 3).toString('base64') }] }).expect(413);
    expect(big.body.message).toMatch(/at most 4194304 \(SEND_MAX_BYTES\)/);
    // Attachments just under it, the MIME (base64) above it: refused while composing.
    await post({ to: ['ben@contoso.com'], attachments: [{ filename: 'a.bin', content: randomBytes(MAX_BYTES - 3).toString('base64') }] }).expect(413);
    expect(await chunkCount()).toBe(chunksBefore);
    expect(await sendCount()).toBe(sendsBefore);
  });

  it('a body cut off midway leaves no rows, and the API goes on', async () => {
    const chunksBefore = await chunkCount();
    const sendsBefore = await sendCount();
    const content = randomBytes(MAX_BYTES / 2).toString('base64');
    const head = `{"to":["ben@contoso.com"],"attachments":[{"filename":"a.bin","content":"`;
    const whole = Buffer.from(`${head}${content}"}]}`);
    const url = new URL(`/v1/mailboxes/${mailbox}/outbox`, api.url);
    const request = httpRequest(url, { method: 'POST', headers: { ...api.auth, 'Content-Type': 'application/json', 'Content-Length': String(whole.length) } });
    request.on('error', () => undefined);
    // More than a chunk's worth, then wait until the API has written chunks inside its transaction.
    request.write(whole.subarray(0, head.length + Math.floor(content.length * 0.6)));
    await waitFor('the intake to write chunks', async () => {
      const [row] = await sql<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND xact_start IS NOT NULL AND query LIKE 'INSERT INTO mail_send_chunks%'`,
      );
      return Number(row.n) > 0;
    });
    request.destroy();
    await waitFor('the intake transaction to end', async () => {
      const [row] = await sql<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND (state LIKE 'idle in transaction%' OR query LIKE 'INSERT INTO mail_send_chunks%' AND state = 'active')`,
      );
      return Number(row.n) === 0;
    });
    expect(await chunkCount()).toBe(chunksBefore);
    expect(await sendCount()).toBe(sendsBefore);
    await post({ to: ['ben@contoso.com'], subject: 'after' }).expect(202);
  });

  it('a mailbox that cannot send still has its body checked first: 400 naming the field, then 409', async () => {
    await api.http.post('/v1/providers').set(api.auth).send({ name: 'Quiet', type: 'imap', host: 'mail.quiet.example', domains: ['quiet.example'] }).expect(201);
    const quiet = (await api.http.post('/v1/mailboxes').set(api.auth).send({ email: 'ana@quiet.example', password: 'pw' }).expect(201)).body.id;
    const to = (body: object) => api.http.post(`/v1/mailboxes/${quiet}/outbox`).set(api.auth).send(body);
    const bad = await to({ to: ['ben@contoso.com'], attachments: [{ filename: 'a', content: 'not base64!' }] }).expect(400);
    expect(bad.body.message).toMatch(/^attachments\[0\]\.content: must be base64/);
    await to({ to: ['ben@contoso.com'], attachments: [{ filename: 'a', content: randomBytes(1000).toString('base64') }] }).expect(409);
  });

  it('malformed or truncated JSON is a 400 and leaves no rows', async () => {
    const chunksBefore = await chunkCount();
    const attachment = randomBytes(CHUNK_BYTES * 2).toString('base64');
    const cut = await post(`{"to":["ben@contoso.com"],"attachments":[{"filename":"a","content":"${attachment}"}]`, { 'Content-Type': 'application/json' }).expect(400);
    expect(cut.body.message).toMatch(/^Malformed JSON body/);
    const wrong = await post(`{"attachments":[{"filename":"a","content":"${attachment}"}],"to":["ben@contoso.com"],}`, { 'Content-Type': 'application/json' }).expect(400);
    expect(wrong.body.message).toMatch(/^Malformed JSON body/);
    const twice = await post(`{"to":["ben@contoso.com"],"attachments":[],"attachments":[]}`, { 'Content-Type': 'application/json' }).expect(400);
    expect(twice.body.message).toMatch(/^attachments: given twice/);
    await post('{}', { 'Content-Type': 'text/plain' }).expect(415);
    expect(await chunkCount()).toBe(chunksBefore);
  });
});
