/**
 * Sending through Microsoft Graph end to end: the real API queues, the listener's mail-send worker sends
 * through the fake Graph (tokens from the fake Entra ID: delegated refresh tokens, app-only client
 * credentials), Postgres and Redis real. The recipient is a Graph mailbox the listener follows, so what
 * is sent arrives as mail.received (the whole loop). Faults come from the fake (429 with Retry-After, 503,
 * 400, a token Graph stops accepting). Outcomes are read from GET …/outbox/:sendId and mail-events.
 */
import { randomBytes } from 'node:crypto';
import { GraphWorld, queryDatabase } from '@app/testing';

const SENDER_APP_ID = '55555555-aaaa-4bbb-8ccc-000000000077';
const SENDER_APP_SECRET = 'graph-sender-secret~do-not-log';
const RECIPIENT = 'rita@contoso.com';

describe('sending through Microsoft Graph (fake Graph and Entra ID, real API and send worker, Postgres, Redis)', () => {
  const world = new GraphWorld();
  let recipientId: string;
  let seq = 0;

  const post = async (mailboxId: string, body: object): Promise<string> =>
    (await world.api.http.post(`/v1/mailboxes/${mailboxId}/outbox`).set(world.api.auth).send(body).expect(202)).body.id as string;
  const sendStatus = async (mailboxId: string, sendId: string) => (await world.api.http.get(`/v1/mailboxes/${mailboxId}/outbox/${sendId}`).set(world.api.auth).expect(200)).body;
  const settled = (mailboxId: string, sendId: string) =>
    world.waitFor(() => sendStatus(mailboxId, sendId), (s) => s.state === 'sent' || s.state === 'failed', 60_000, `send ${sendId} to settle`);
  const eventsOf = (type: string, sendId: string) =>
    world.waitFor(async () => (await world.events.jobs()).filter((job) => job.name === type && job.data.send.id === sendId), (jobs) => jobs.length > 0, 15_000, `${type} of send ${sendId}`);
  const storedMime = async (sendId: string) => (await queryDatabase<{ raw: Buffer }>(world.db.url, `SELECT raw FROM mail_send_contents WHERE send_id = $1`, [sendId]))[0]!.raw;
  const sentWith = (messageId: string) => world.graph.sentMail.filter((mail) => mail.internetMessageId === messageId);
  const requestsTo = (pattern: RegExp) => world.graph.requests.filter((r) => pattern.test(r.path));

  /** A delegated sender: its own provider (Mail.Send, Mail.ReadWrite; not listened to), a refresh token imported. */
  async function delegatedSender(): Promise<{ id: string; email: string }> {
    return world.mailbox(`sender${++seq}@fabrikam.com`);
  }

  beforeAll(async () => {
    await world.start({ push: false, env: { SEND_RETRY_BASE_MS: '50', SEND_RETRY_MAX_MS: '200' } });
    await world.createSendingProviders({ clientId: SENDER_APP_ID, clientSecret: SENDER_APP_SECRET, appRoles: ['Mail.Send', 'Mail.ReadWrite'] });
    recipientId = (await world.mailbox(RECIPIENT)).id;
    await world.waitForState(recipientId, 'connected', 30_000);
  }, 120_000);

  afterAll(() => world.stop());

  it('delegated, small: POST /me/sendMail with exactly the stored MIME (base64, text/plain); Message-ID kept; mail.sent; the recipient listener publishes it', async () => {
    const sender = await delegatedSender();
    const id = await post(sender.id, { to: [`Rita <${RECIPIENT}>`], subject: 'Through Graph', text: 'hello Rita', headers: { 'X-CRM-Ticket': '4711' } });
    const status = await settled(sender.id, id);
    expect(status).toMatchObject({ state: 'sent', attempts: 1, lastError: null, sentAt: expect.any(String) });
    const [sent] = sentWith(status.messageId);
    expect(sentWith(status.messageId)).toHaveLength(1);
    expect(sent).toMatchObject({ email: sender.email, via: 'sendMail-mime', recipients: [RECIPIENT] });
    expect(sent!.mime.equals(await storedMime(id))).toBe(true);
    expect(requestsTo(/\/sendMail$/).filter((r) => r.email === sender.email).map((r) => [r.method, r.path, r.status])).toEqual([['POST', '/v1.0/me/sendMail', 202]]);
    // In the sender's Sent Items, under our Message-ID.
    expect(world.graph.messages(sender.email, 'sentitems').map((m) => m.internetMessageId)).toContain(status.messageId);
    const [event] = await eventsOf('mail.sent', id);
    expect(event.data).toMatchObject({ type: 'mail.sent', mailbox: { id: sender.id, email: sender.email }, send: { id, messageId: status.messageId, recipients: [RECIPIENT], attempts: 1, response: expect.stringMatching(/^Graph sendMail answered 202/) } });
    await world.waitFor(
      async () => (await world.received(recipientId)).filter((job) => job.data.message.internetMessageId === status.messageId),
      (jobs) => jobs.length === 1,
      30_000,
      "the recipient's mail.received",
    );
  });

  it('app-only: POST /users/{upn}/sendMail with the client-credentials token; Bcc recipients given back to Graph', async () => {
    const email = `daemon${++seq}@apponly.example`;
    const sender = await world.mailbox(email, {}, { token: false });
    const id = await post(sender.id, { to: [RECIPIENT], bcc: ['hidden@contoso.com'], subject: 'App-only', text: 'from the daemon' });
    const status = await settled(sender.id, id);
    expect(status).toMatchObject({ state: 'sent', attempts: 1 });
    const [sent] = sentWith(status.messageId);
    expect(sent).toMatchObject({ email, via: 'sendMail-mime' });
    expect(sent!.recipients.sort()).toEqual(['hidden@contoso.com', RECIPIENT]);
    const stored = await storedMime(id);
    expect(stored.toString()).not.toMatch(/^Bcc:/im);
    expect(sent!.mime.equals(Buffer.concat([Buffer.from('Bcc: hidden@contoso.com\r\n'), stored]))).toBe(true);
    expect(requestsTo(/\/sendMail$/).filter((r) => r.email === email).map((r) => [r.path, r.status])).toEqual([[`/v1.0/users/${encodeURIComponent(email)}/sendMail`, 202]]);
    const appToken = world.entra.issuedAccessTokens.filter((t) => t.clientId === SENDER_APP_ID);
    expect(appToken.length).toBeGreaterThan(0);
    expect(appToken.every((t) => t.kind === 'app')).toBe(true);
  });

  it('a 5 MB attachment: a draft (Message-ID, In-Reply-To, References kept), the attachment through an upload session (320 KiB multiples, ranges in order, no bearer), /send; bytes identical at Graph', async () => {
    const sender = await delegatedSender();
    const big = randomBytes(5 * 1024 * 1024);
    const small = randomBytes(100 * 1024);
    const id = await post(sender.id, {
      to: [RECIPIENT],
      subject: 'Large attachment',
      html: '<p>see attached</p>',
      inReplyTo: '<question@contoso.com>',
      references: ['<start@contoso.com>', '<question@contoso.com>'],
      attachments: [
        { filename: 'big.bin', contentType: 'application/octet-stream', content: big.toString('base64') },
        { filename: 'small.bin', contentType: 'application/octet-stream', content: small.toString('base64') },
      ],
    });
    const status = await settled(sender.id, id);
    expect(status).toMatchObject({ state: 'sent', attempts: 1 });
    const [sent] = sentWith(status.messageId);
    expect(sent).toMatchObject({ via: 'draft', subject: 'Large attachment', recipients: [RECIPIENT] });
    const attachments = sent!.attachments.map((a) => ({ name: a.name, via: a.via, size: a.content.length }));
    expect(attachments).toEqual([
      { name: 'big.bin', via: 'uploadSession', size: big.length },
      { name: 'small.bin', via: 'post', size: small.length },
    ]);
    expect(sent!.attachments[0]!.content.equals(big)).toBe(true);
    // The JSON draft keeps threading through Exchange's MAPI properties: the composed MIME has both headers.
    expect(sent!.mime.toString('latin1')).toMatch(/^In-Reply-To: <question@contoso\.com>\r$/m);
    expect(sent!.mime.toString('latin1')).toMatch(/^References: <start@contoso\.com> <question@contoso\.com>\r$/m);
    expect(sent!.mime.toString('latin1')).toContain(`\r\nMessage-ID: ${status.messageId}\r\n`);
    expect(sent!.attachments[1]!.content.equals(small)).toBe(true);
    const chunks = world.graph.uploadChunks.filter((c) => c.contentRange.endsWith(`/${big.length}`));
    expect(chunks.map((c) => [c.contentRange, c.status, c.withAuthorization])).toEqual([
      [`bytes 0-3276799/${big.length}`, 200, false],
      [`bytes 3276800-${big.length - 1}/${big.length}`, 201, false],
    ]);
    const paths = requestsTo(/^\/v1\.0\/me\//).filter((r) => r.email === sender.email).map((r) => `${r.method} ${r.path.replace(/messages\/[^/]+/, 'messages/{id}')} ${r.status}`);
    expect(paths).toEqual([
      'POST /v1.0/me/messages 201',
      'POST /v1.0/me/messages/{id}/attachments/createUploadSession 200',
      'POST /v1.0/me/messages/{id}/attachments 201',
      'POST /v1.0/me/messages/{id}/send 202',
    ]);
    expect(world.graph.draftCount).toBe(0);
    expect(world.graph.messages(sender.email, 'sentitems').map((m) => m.internetMessageId)).toContain(status.messageId);
  });

  it('a failure before /send (503 on the upload session) deletes the draft; the retry makes a new one and sends once', async () => {
    const sender = await delegatedSender();
    world.graph.failNext(1, { status: 503, code: 'ServiceUnavailable', message: 'The service is temporarily unavailable.', email: sender.email, path: /createUploadSession$/ });
    const id = await post(sender.id, { to: [RECIPIENT], subject: 'Large, retried', text: 'x', attachments: [{ filename: 'big.bin', content: randomBytes(4 * 1024 * 1024).toString('base64') }] });
    const status = await settled(sender.id, id);
    expect(status).toMatchObject({ state: 'sent', attempts: 2, lastError: { code: 'GRAPH_ServiceUnavailable' } });
    const calls = requestsTo(/^\/v1\.0\/me\/messages/).filter((r) => r.email === sender.email).map((r) => `${r.method} ${r.path.replace(/messages\/[^/]+/, 'messages/{id}')} ${r.status}`);
    expect(calls).toEqual([
      'POST /v1.0/me/messages 201',
      'POST /v1.0/me/messages/{id}/attachments/createUploadSession 503',
      'DELETE /v1.0/me/messages/{id} 204',
      'POST /v1.0/me/messages 201',
      'POST /v1.0/me/messages/{id}/attachments/createUploadSession 200',
      'POST /v1.0/me/messages/{id}/send 202',
    ]);
    expect(sentWith(status.messageId)).toHaveLength(1);
    expect(world.graph.draftCount).toBe(0);
  });

  it('429 with Retry-After: the next attempt waits at least that long, then the message is sent once (attempts 2)', async () => {
    const sender = await delegatedSender();
    world.graph.failNext(1, { status: 429, code: 'TooManyRequests', message: 'Please retry again later.', retryAfterSeconds: 2, email: sender.email, path: /\/sendMail$/ });
    const id = await post(sender.id, { to: [RECIPIENT], subject: 'Throttled once', text: 'x' });
    const status = await settled(sender.id, id);
    expect(status).toMatchObject({ state: 'sent', attempts: 2, lastError: { code: 'GRAPH_TooManyRequests', message: expect.stringContaining('Please retry again later.') } });
    expect(sentWith(status.messageId)).toHaveLength(1);
    const tries = requestsTo(/\/sendMail$/).filter((r) => r.email === sender.email);
    expect(tries.map((r) => r.status)).toEqual([429, 202]);
    // The backoff alone is 50–200 ms here: the gap is Retry-After's.
    expect(tries[1]!.startedAt - tries[0]!.endedAt).toBeGreaterThanOrEqual(2_000);
    expect(await eventsOf('mail.sent', id)).toHaveLength(1);
  });

  it('503 then accepted: retried, sent once', async () => {
    const sender = await delegatedSender();
    world.graph.throttleNext(1, { status: 503, retryAfterSeconds: 0, email: sender.email });
    const id = await post(sender.id, { to: [RECIPIENT], subject: 'Unavailable once', text: 'x' });
    const status = await settled(sender.id, id);
    expect(status).toMatchObject({ state: 'sent', attempts: 2, lastError: { code: 'GRAPH_ServiceUnavailable' } });
    expect(sentWith(status.messageId)).toHaveLength(1);
  });

  it("400 fails at once with Graph's code and message; mail.send_failed", async () => {
    const sender = await delegatedSender();
    world.graph.failNext(1, { status: 400, code: 'ErrorInvalidRecipients', message: "At least one recipient isn't valid., Recipient 'nobody' is not resolved.", email: sender.email, path: /\/sendMail$/ });
    const id = await post(sender.id, { to: [RECIPIENT], subject: 'Refused', text: 'x' });
    const status = await settled(sender.id, id);
    expect(status).toMatchObject({ state: 'failed', attempts: 1, lastError: { code: 'GRAPH_ErrorInvalidRecipients', message: expect.stringContaining("Recipient 'nobody' is not resolved.") } });
    expect(sentWith(status.messageId)).toHaveLength(0);
    const [failed] = await eventsOf('mail.send_failed', id);
    expect(failed.data).toMatchObject({ type: 'mail.send_failed', send: { id, attempts: 1 }, reason: { code: 'GRAPH_ErrorInvalidRecipients' } });
  });

  it('401 (a token Graph stopped accepting): refreshed once, sent once, in the same attempt', async () => {
    const sender = await delegatedSender();
    // Its first send gets it a token; then Graph stops accepting that token.
    const first = await post(sender.id, { to: [RECIPIENT], subject: 'Before', text: 'x' });
    expect((await settled(sender.id, first)).state).toBe('sent');
    world.entra.invalidateAccessTokens(sender.email);
    const issuedBefore = world.entra.issuedAccessTokens.filter((t) => t.username === sender.email).length;
    // A refused token is answered before Graph knows whose mailbox is asked for: these requests carry no email.
    const requestsBefore = world.graph.requests.length;
    const id = await post(sender.id, { to: [RECIPIENT], subject: 'After a refresh', text: 'x' });
    const status = await settled(sender.id, id);
    expect(status).toMatchObject({ state: 'sent', attempts: 1, lastError: null });
    expect(world.entra.issuedAccessTokens.filter((t) => t.username === sender.email).length).toBe(issuedBefore + 1);
    expect(world.graph.requests.slice(requestsBefore).filter((r) => /\/sendMail$/.test(r.path)).map((r) => [r.path, r.status])).toEqual([
      ['/v1.0/me/sendMail', 401],
      ['/v1.0/me/sendMail', 202],
    ]);
    expect(sentWith(status.messageId)).toHaveLength(1);
  });
});
