/**
 * POST /v1/mailboxes/:id/outbox and GET …/outbox/:sendId on the real API (real Postgres and Redis): what
 * is refused before anything is stored (400 naming the field, 409, 413, 422), what is stored and queued
 * (202, the job on `mail-send`), and the Idempotency-Key. Sending itself: send-smtp.test.ts.
 */
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { MAIL_SEND_QUEUE } from '@app/sending';
import { APP_CONFIG, AppConfig } from '@app/config';
import { RunningApi, useApiSuite } from '@app/testing';
import { queryDatabase } from '../libs/testing/src/test-database';

const MAX_BYTES = 64 * 1024;

describe('outbox API', () => {
  const suite = useApiSuite({ SEND_MAX_BYTES: String(MAX_BYTES) });
  let api: RunningApi;
  let mailbox: string;
  let quietMailbox: string;
  let oauthMailbox: string;
  let redis: Redis;
  let queue: Queue;

  const post = (id: string, body: object | string, headers: Record<string, string> = {}) => {
    const request = api.http.post(`/v1/mailboxes/${id}/outbox`).set(api.auth);
    for (const [name, value] of Object.entries(headers)) request.set(name, value);
    return request.send(body);
  };
  const count = async (id: string) => Number((await queryDatabase<any>(suite.db.url, `SELECT count(*) AS n FROM mail_sends WHERE mailbox_id = $1`, [id]))[0].n);

  beforeAll(async () => {
    api = suite.api;
    const provider = async (body: object) => (await api.http.post('/v1/providers').set(api.auth).send(body).expect(201)).body.id as string;
    const sending = await provider({ name: 'Sends', type: 'imap', host: 'mail.send.example', sendEmails: true, domains: ['send.example'] });
    await provider({ name: 'Quiet', type: 'imap', host: 'mail.quiet.example', domains: ['quiet.example'] });
    await provider({ name: 'OAuth', type: 'imap', host: 'mail.oauth.example', sendEmails: true, authMethod: 'oauth2', oauth: { clientId: 'c' }, domains: ['oauth.example'] });
    expect(sending).toBeTruthy();
    const create = async (email: string, password?: string) => (await api.http.post('/v1/mailboxes').set(api.auth).send({ email, password }).expect(201)).body.id as string;
    mailbox = await create('ana@send.example', 'pw');
    quietMailbox = await create('ana@quiet.example', 'pw');
    oauthMailbox = await create('ana@oauth.example');
    const config = api.app.get<AppConfig>(APP_CONFIG);
    redis = new Redis(config.redisUrl);
    queue = new Queue(MAIL_SEND_QUEUE, { connection: redis, prefix: config.queuePrefix });
  });
  afterAll(async () => {
    await queue?.close();
    redis?.disconnect();
  });

  it('stores and queues a message: 202 { id, state: queued }, readable at GET …/outbox/:sendId', async () => {
    const res = await post(mailbox, { to: ['Ben <ben@contoso.com>'], cc: [{ name: 'Carla', address: 'carla@contoso.com' }], bcc: ['dan@contoso.com'], subject: 'Hi', text: 'hello' }).expect(202);
    expect(res.body).toEqual({ id: expect.any(String), state: 'queued' });
    const job = await queue.getJob(res.body.id);
    expect(job?.data).toMatchObject({ sendId: res.body.id });
    const status = await api.http.get(`/v1/mailboxes/${mailbox}/outbox/${res.body.id}`).set(api.auth).expect(200);
    expect(status.body).toEqual({ id: res.body.id, state: 'queued', messageId: expect.stringMatching(/^<.+@send\.example>$/), attempts: 0, lastError: null, sentAt: null, response: null, sentCopy: null, createdAt: expect.any(String) });
    const [row] = await queryDatabase<any>(suite.db.url, `SELECT envelope_to, encode(raw, 'escape') AS raw FROM mail_sends JOIN mail_send_contents ON send_id = id WHERE id = $1`, [res.body.id]);
    expect(row.envelope_to.sort()).toEqual(['ben@contoso.com', 'carla@contoso.com', 'dan@contoso.com']);
    expect(row.raw).toContain('From: ana@send.example');
    expect(row.raw).not.toMatch(/^Bcc:/im);
  });

  it('takes a raw message/rfc822 body, taking Bcc out and adding From and Message-ID', async () => {
    const raw = 'To: ben@contoso.com\r\nBcc: dan@contoso.com\r\nSubject: Raw\r\n\r\nhello\r\n';
    const res = await post(mailbox, raw, { 'Content-Type': 'message/rfc822' }).expect(202);
    const [row] = await queryDatabase<any>(suite.db.url, `SELECT envelope_to, encode(raw, 'escape') AS raw FROM mail_sends JOIN mail_send_contents ON send_id = id WHERE id = $1`, [res.body.id]);
    expect(row.envelope_to.sort()).toEqual(['ben@contoso.com', 'dan@contoso.com']);
    expect(row.raw).toMatch(/^From: ana@send\.example\r\nMessage-ID: <.+@send\.example>\r\nTo: ben@contoso\.com\r\nSubject: Raw\r\n\r\nhello/);
    const foreign = await post(mailbox, 'From: eve@evil.example\r\nTo: ben@contoso.com\r\n\r\nx', { 'Content-Type': 'message/rfc822' }).expect(400);
    expect(foreign.body.message).toMatch(/^From: must be the mailbox's own address/);
  });

  it('the same Idempotency-Key returns the same send and stores it once; another message under it is a 422', async () => {
    const body = { to: ['ben@contoso.com'], subject: 'Once', text: 'once' };
    const before = await count(mailbox);
    const first = await post(mailbox, body, { 'Idempotency-Key': 'key-1' }).expect(202);
    const again = await post(mailbox, body, { 'Idempotency-Key': 'key-1' }).expect(202);
    expect(again.body.id).toBe(first.body.id);
    expect(await count(mailbox)).toBe(before + 1);
    const other = await post(mailbox, { ...body, text: 'different' }, { 'Idempotency-Key': 'key-1' }).expect(422);
    expect(other.body.message).toMatch(/^Idempotency-Key: already used/);
    const concurrent = await Promise.all([1, 2, 3, 4, 5].map(() => post(mailbox, body, { 'Idempotency-Key': 'key-2' })));
    expect(new Set(concurrent.map((r) => r.body.id)).size).toBe(1);
    expect(await count(mailbox)).toBe(before + 2);
  });

  describe('bad input is a 400 naming the field, and nothing is stored', () => {
    const cases: [string, object, RegExp][] = [
      ['no recipient', { subject: 'x', text: 'x' }, /^to: at least one recipient/],
      ['an invalid address', { to: ['not an address'] }, /^to\[0\]: must be an email address/],
      ['an invalid address object', { to: [{ address: 'nope' }] }, /^to\[0\]\.address: must be an email address/],
      ['CR/LF in the subject', { to: ['ben@contoso.com'], subject: 'Hi\r\nBcc: eve@evil.example' }, /^subject: must be one line/],
      ['CR/LF in a header value', { to: ['ben@contoso.com'], headers: { 'X-Note': 'a\nBcc: eve@evil.example' } }, /^headers\.X-Note: must be one line/],
      ['CR/LF in a display name', { to: [{ name: 'Ben\r\nBcc: eve@evil.example', address: 'ben@contoso.com' }] }, /^to\[0\]\.name: must be one line/],
      ['a reserved header', { to: ['ben@contoso.com'], headers: { Bcc: 'eve@evil.example' } }, /^headers\.Bcc: is set from the message's own fields/],
      ['attachment content not base64', { to: ['ben@contoso.com'], attachments: [{ filename: 'a.txt', content: 'not base64!' }] }, /^attachments\[0\]\.content: must be base64/],
      ['an unknown field', { to: ['ben@contoso.com'], colour: 'blue' }, /^colour: unknown field/],
      ['an unknown attachment field', { to: ['ben@contoso.com'], attachments: [{ filename: 'a', content: '', size: 1 }] }, /^attachments\[0\]\.size: unknown field/],
    ];
    it.each(cases)('%s', async (_label, body, message) => {
      const before = await count(mailbox);
      const res = await post(mailbox, body).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(message) });
      expect(await count(mailbox)).toBe(before);
    });

    it('a malformed Idempotency-Key', async () => {
      const res = await post(mailbox, { to: ['ben@contoso.com'] }, { 'Idempotency-Key': 'has space' }).expect(400);
      expect(res.body.message).toMatch(/^Idempotency-Key: /);
    });
  });

  it('413 above SEND_MAX_BYTES, for the composed message and for the request body', async () => {
    const content = Buffer.alloc(MAX_BYTES, 7).toString('base64');
    const composed = await post(mailbox, { to: ['ben@contoso.com'], attachments: [{ filename: 'big.bin', content }] }).expect(413);
    expect(composed.body.message).toMatch(/at most 65536 \(SEND_MAX_BYTES\)/);
    await post(mailbox, 'To: ben@contoso.com\r\n\r\n' + 'x'.repeat(MAX_BYTES + 10), { 'Content-Type': 'message/rfc822' }).expect(413);
  });

  it("409 with the reason when the provider's sendEmails is off or the token is not active", async () => {
    const off = await post(quietMailbox, { to: ['ben@contoso.com'] }).expect(409);
    expect(off.body).toMatchObject({ code: 'SENDING_DISABLED', message: expect.stringMatching(/sendEmails is off/) });
    const token = await post(oauthMailbox, { to: ['ben@contoso.com'] }).expect(409);
    expect(token.body).toMatchObject({ code: 'TOKEN_NOT_OBTAINED', message: expect.stringMatching(/token is not obtained/) });
  });

  it('404 for an unknown send or mailbox', async () => {
    await api.http.get(`/v1/mailboxes/${mailbox}/outbox/00000000-0000-4000-8000-000000000000`).set(api.auth).expect(404);
    await post('00000000-0000-4000-8000-000000000000', { to: ['ben@contoso.com'] }).expect(404);
  });
});
