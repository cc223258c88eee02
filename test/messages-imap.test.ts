import { request as httpRequest } from 'node:http';
import { ImapFlow } from 'imapflow';
import { imapMessageRef } from '@app/events';
import { MessageReader } from '@app/messages';
import { ListenerWorld, TcpProxy } from '@app/testing';

const CRLF = '\r\n';
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5f6d6a30000000049454e44ae426082', 'hex');
const PDF = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(3000, 7), Buffer.from('\n%%EOF\n')]);

function base64Lines(data: Buffer): string {
  return (data.toString('base64').match(/.{1,76}/g) ?? []).join(CRLF);
}

/** text + html (alternative, html with an inline image by Content-ID) + a PDF with a non-ASCII name (RFC 2231). */
function multipartMessage(to: string): Buffer {
  const lines = [
    'From: "Bo Li" <bo@fabrikam.com>',
    `To: ${to}`,
    'Cc: Cy <cy@fabrikam.com>',
    'Reply-To: sales@fabrikam.com',
    'Subject: =?UTF-8?B?UXVhcnRhbHN6YWhsZW4gw4RyZ2Vy?=',
    'Date: Sat, 21 Nov 2026 10:00:00 +0000',
    'Message-ID: <m1@fabrikam.com>',
    'In-Reply-To: <m0@contoso.com>',
    'References: <a@contoso.com> <m0@contoso.com>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="mixed"',
    '',
    '--mixed',
    'Content-Type: multipart/related; boundary="related"',
    '',
    '--related',
    'Content-Type: multipart/alternative; boundary="alt"',
    '',
    '--alt',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Gr=C3=BC=C3=9Fe, the numbers.',
    '--alt',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>Gr\u00fc\u00dfe, <img src="cid:logo@fabrikam"></p>',
    '--alt--',
    '--related',
    'Content-Type: image/png; name="logo.png"',
    'Content-Transfer-Encoding: base64',
    'Content-ID: <logo@fabrikam>',
    'Content-Disposition: inline; filename="logo.png"',
    '',
    base64Lines(PNG),
    '--related--',
    '--mixed',
    'Content-Type: application/pdf',
    'Content-Transfer-Encoding: base64',
    "Content-Disposition: attachment; filename*=UTF-8''Bericht%20%C3%84rger%20%E2%82%AC.pdf",
    '',
    base64Lines(PDF),
    '--mixed--',
    '',
  ];
  return Buffer.from(lines.join(CRLF), 'utf8');
}

/** A GET streamed through node:http: every byte, the headers, and whether the answer was complete. */
function fetchStream(url: string, headers: Record<string, string>, onFirstBytes?: () => void): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer; complete: boolean }> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      let told = false;
      const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), complete: res.complete });
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (!told && onFirstBytes) {
          told = true;
          onFirstBytes();
        }
      });
      res.on('end', done);
      res.on('error', done);
      res.on('aborted', () => undefined);
      res.on('close', () => (res.complete ? undefined : done()));
    });
    req.on('error', () => resolve({ status: 0, headers: {}, body: Buffer.alloc(0), complete: false }));
    req.end();
  });
}

describe('Reading messages over IMAP (real Dovecot, Postgres, Redis)', () => {
  const world = new ListenerWorld();
  let seq = 0;
  const email = () => `read${++seq}@contoso.com`;
  const base = (mailboxId: string, ref: string) => `/v1/mailboxes/${mailboxId}/messages/${ref}`;

  // The timeout also bounds a read's wait for a pooled session (half of it): 8 s keeps the 10 parallel reads
  // of the pool test within it under CI load (at 3 s one of them once waited past 1.5 s: a 503).
  beforeAll(() => world.start({ env: { MESSAGES_IDLE_SECONDS: '1.5', MESSAGES_TIMEOUT_SECONDS: '8' } }), 60_000);
  afterAll(() => world.stop());

  async function flagsOf(user: string, uid: number): Promise<string[]> {
    const client = new ImapFlow({ host: '127.0.0.1', port: world.dovecot.port, secure: false, auth: { user, pass: `pw-${user}` }, logger: false });
    await client.connect();
    try {
      await client.mailboxOpen('INBOX', { readOnly: true });
      const message = await client.fetchOne(String(uid), { uid: true, flags: true }, { uid: true });
      return message ? [...(message.flags ?? [])] : [];
    } finally {
      await client.logout();
    }
  }

  it('parsed, raw and each attachment of a multipart message, byte for byte, and the message stays unseen', async () => {
    const mailbox = await world.mailbox(email());
    const raw = multipartMessage(mailbox.email);
    const { uid, uidValidity } = await world.dovecot.deliver(mailbox.email, raw);
    const ref = imapMessageRef(mailbox.id, 'INBOX', uidValidity, uid);

    const parsed = (await world.api.http.get(base(mailbox.id, ref)).set(world.api.auth).expect(200)).body;
    expect(parsed).toMatchObject({
      ref,
      folder: 'INBOX',
      subject: 'Quartalszahlen Ärger',
      from: { name: 'Bo Li', address: 'bo@fabrikam.com' },
      to: [{ name: null, address: mailbox.email }],
      cc: [{ name: 'Cy', address: 'cy@fabrikam.com' }],
      bcc: [],
      replyTo: [{ name: null, address: 'sales@fabrikam.com' }],
      date: '2026-11-21T10:00:00.000Z',
      receivedAt: expect.any(String),
      internetMessageId: '<m1@fabrikam.com>',
      inReplyTo: '<m0@contoso.com>',
      references: ['<a@contoso.com>', '<m0@contoso.com>'],
      text: expect.stringContaining('Grüße, the numbers.'),
      html: expect.stringContaining('cid:logo@fabrikam'),
    });
    expect(parsed.attachments).toEqual([
      { id: '1.2', filename: 'logo.png', contentType: 'image/png', size: PNG.length, contentId: 'logo@fabrikam', inline: true },
      { id: '2', filename: 'Bericht Ärger €.pdf', contentType: 'application/pdf', size: PDF.length, contentId: null, inline: false },
    ]);

    const rawRead = await fetchStream(`${world.api.url}${base(mailbox.id, ref)}/raw`, world.api.auth);
    expect(rawRead).toMatchObject({ status: 200, complete: true });
    expect(rawRead.headers['content-type']).toBe('message/rfc822');
    expect(rawRead.body.equals(raw)).toBe(true);

    const logo = await fetchStream(`${world.api.url}${base(mailbox.id, ref)}/attachments/1.2`, world.api.auth);
    expect(logo.body.equals(PNG)).toBe(true);
    expect(logo.headers['content-type']).toBe('image/png');
    expect(logo.headers['content-disposition']).toBe('inline; filename=logo.png');
    const pdf = await fetchStream(`${world.api.url}${base(mailbox.id, ref)}/attachments/2`, world.api.auth);
    expect(pdf.body.equals(PDF)).toBe(true);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.headers['content-disposition']).toBe(`attachment; filename="Bericht ?rger ?.pdf"; filename*=UTF-8''Bericht%20%C3%84rger%20%E2%82%AC.pdf`);

    await world.api.http.get(`${base(mailbox.id, ref)}/attachments/3`).set(world.api.auth).expect(404);
    await world.api.http.get(`${base(mailbox.id, ref)}/attachments/1`).set(world.api.auth).expect(404);
    expect((await world.api.http.get(`${base(mailbox.id, ref)}/attachments/x.1`).set(world.api.auth).expect(400)).body.message).toMatch(/attachmentId/);
    expect(await flagsOf(mailbox.email, uid)).not.toContain('\\Seen');
  });

  it('the ref of a real mail.received event opens the message', async () => {
    const mailbox = await world.mailbox(email());
    await world.waitForState(mailbox.id, 'connected');
    await world.dovecot.deliver(mailbox.email, multipartMessage(mailbox.email));
    const [job] = await world.waitForReceived(mailbox.id, 1);
    const parsed = (await world.api.http.get(base(mailbox.id, job.data.message.ref)).set(world.api.auth).expect(200)).body;
    expect(parsed).toMatchObject({ ref: job.data.message.ref, internetMessageId: '<m1@fabrikam.com>', subject: 'Quartalszahlen Ärger' });
  });

  it('malformed ref → 400; another mailbox → 404; expunged → 404; UIDVALIDITY changed → 404; wrong password → 409; unauthenticated → 401', async () => {
    const a = await world.mailbox(email());
    const b = await world.mailbox(email());
    const inA = await world.dovecot.deliver(a.email, multipartMessage(a.email));
    await world.dovecot.deliver(b.email, multipartMessage(b.email));
    const refA = imapMessageRef(a.id, 'INBOX', inA.uidValidity, inA.uid);

    const malformed = await world.api.http.get(base(a.id, 'not-a-ref')).set(world.api.auth).expect(400);
    expect(malformed.body).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'MALFORMED_REF', message: expect.stringMatching(/^ref: /) });
    await world.api.http.get(base(a.id, refA)).expect(401);
    // Same folder, UIDVALIDITY and UID may well exist in b: the ref still is a's.
    expect((await world.api.http.get(base(b.id, refA)).set(world.api.auth).expect(404)).body.message).toMatch(/another mailbox/);
    await world.api.http.get(base('00000000-0000-4000-8000-000000000000', refA)).set(world.api.auth).expect(404);

    const gone = await world.dovecot.deliver(a.email, multipartMessage(a.email));
    const client = new ImapFlow({ host: '127.0.0.1', port: world.dovecot.port, secure: false, auth: { user: a.email, pass: `pw-${a.email}` }, logger: false });
    await client.connect();
    await client.mailboxOpen('INBOX');
    await client.messageDelete(String(gone.uid), { uid: true });
    await client.logout();
    const expunged = await world.api.http.get(base(a.id, imapMessageRef(a.id, 'INBOX', gone.uidValidity, gone.uid))).set(world.api.auth).expect(404);
    expect(expunged.body).toMatchObject({ code: 'MESSAGE_NOT_FOUND' });
    await world.api.http.get(`${base(a.id, imapMessageRef(a.id, 'INBOX', gone.uidValidity, gone.uid))}/raw`).set(world.api.auth).expect(404);

    await world.dovecot.changeUidValidity(a.email);
    expect((await world.api.http.get(base(a.id, refA)).set(world.api.auth).expect(404)).body.message).toMatch(/UIDVALIDITY/);

    await world.api.http.patch(`/v1/mailboxes/${b.id}`).set(world.api.auth).send({ password: 'not-the-password' }).expect(200);
    const inB = await world.dovecot.deliver(b.email, multipartMessage(b.email));
    const refused = await world.api.http.get(base(b.id, imapMessageRef(b.id, 'INBOX', inB.uidValidity, inB.uid))).set(world.api.auth).expect(409);
    expect(refused.body).toMatchObject({ statusCode: 409, code: 'AUTHENTICATIONFAILED', message: expect.stringMatching(/cannot be read now \(AUTHENTICATIONFAILED\)/) });
  });

  it('a mail server that vanishes or goes silent mid-stream → the client sees an aborted response, never a complete one', async () => {
    const proxy = await TcpProxy.start(world.dovecot.port);
    try {
      const provider = await world.api.http
        .post('/v1/providers')
        .set(world.api.auth)
        .send({ name: 'Dovecot via proxy', type: 'imap', host: '127.0.0.1', port: proxy.port, secure: false, domains: ['proxied.test'] })
        .expect(201);
      const user = `big${++seq}@proxied.test`;
      await world.dovecot.addUser(user, `pw-${user}`);
      const created = await world.api.http.post('/v1/mailboxes').set(world.api.auth).send({ email: user, password: `pw-${user}`, providerId: provider.body.id, enabled: false }).expect(201);
      const payload = Buffer.alloc(6 * 1024 * 1024, 1);
      const big = Buffer.from(
        [`From: a@b.c`, `To: ${user}`, 'Subject: big', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"', '', '--b', 'Content-Type: text/plain', '', 'see attached', '--b',
          'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64', 'Content-Disposition: attachment; filename="big.bin"', '', base64Lines(payload), '--b--', ''].join(CRLF),
      );
      const { uid, uidValidity } = await world.dovecot.deliver(user, big);
      const ref = imapMessageRef(created.body.id, 'INBOX', uidValidity, uid);
      // Raw (Content-Length) and an attachment (chunked: only a destroyed socket tells the client it is cut).
      for (const path of ['raw', 'attachments/2']) {
        const answer = await fetchStream(`${world.api.url}${base(created.body.id, ref)}/${path}`, world.api.auth, () => proxy.cut());
        expect({ path, status: answer.status, complete: answer.complete }).toEqual({ path, status: 200, complete: false });
        expect(answer.body.length).toBeLessThan(path === 'raw' ? big.length : payload.length);
      }
      // The API is fine afterwards: a new session reads the whole message.
      const again = await fetchStream(`${world.api.url}${base(created.body.id, ref)}/raw`, world.api.auth);
      expect(again.complete).toBe(true);
      expect(again.body.equals(big)).toBe(true);
      const attachment = await fetchStream(`${world.api.url}${base(created.body.id, ref)}/attachments/2`, world.api.auth);
      expect(attachment.complete).toBe(true);
      expect(attachment.body.equals(payload)).toBe(true);
      // A server that stops answering (the connection stays open, nothing comes): cut after MESSAGES_TIMEOUT_SECONDS (8 s here).
      const started = Date.now();
      const silent = await fetchStream(`${world.api.url}${base(created.body.id, ref)}/attachments/2`, world.api.auth, () => proxy.blackhole());
      expect({ status: silent.status, complete: silent.complete }).toEqual({ status: 200, complete: false });
      expect(silent.body.length).toBeLessThan(payload.length);
      expect(Date.now() - started).toBeGreaterThanOrEqual(7_500);
    } finally {
      await proxy.stop();
    }
  });

  it('pool: consecutive reads reuse one session, 10 parallel reads use at most 2, idle sessions are logged out', async () => {
    const reader = world.api.app.get(MessageReader);
    const mailbox = await world.mailbox(email(), { enabled: false });
    const { uid, uidValidity } = await world.dovecot.deliver(mailbox.email, multipartMessage(mailbox.email));
    const url = base(mailbox.id, imapMessageRef(mailbox.id, 'INBOX', uidValidity, uid));
    const before = reader.pool.logins;
    for (let i = 0; i < 5; i++) await world.api.http.get(url).set(world.api.auth).expect(200);
    expect(reader.pool.logins - before).toBe(1);
    expect((await world.dovecot.connectionsOf(mailbox.email)).length).toBe(1);

    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, (await world.dovecot.connectionsOf(mailbox.email)).length, reader.pool.openSessions(mailbox.id));
      }
    })();
    const answers = await Promise.all(Array.from({ length: 10 }, () => world.api.http.get(url).set(world.api.auth)));
    sampling = false;
    await sampler;
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(most).toBeGreaterThanOrEqual(1);
    expect(most).toBeLessThanOrEqual(2);
    expect(reader.pool.logins - before).toBeLessThanOrEqual(2);

    await world.waitFor(async () => (await world.dovecot.connectionsOf(mailbox.email)).length, (n) => n === 0, 5_000, 'idle sessions logged out');
    expect(reader.pool.openSessions(mailbox.id)).toBe(0);
  });

  it('every session held by slow downloads → 503 MAILBOX_BUSY after the wait, served again once they end', async () => {
    const mailbox = await world.mailbox(email(), { enabled: false });
    const big = Buffer.concat([Buffer.from(`From: a@b.c${CRLF}To: ${mailbox.email}${CRLF}Subject: slow${CRLF}${CRLF}`), Buffer.from(base64Lines(Buffer.alloc(30 * 1024 * 1024, 2)))]);
    const { uid, uidValidity } = await world.dovecot.deliver(mailbox.email, big);
    const url = base(mailbox.id, imapMessageRef(mailbox.id, 'INBOX', uidValidity, uid));
    // Two clients that start a download and stop reading: each holds one of the mailbox's two sessions.
    const stalled = await Promise.all(
      [1, 2].map(
        () =>
          new Promise<{ destroy(): void }>((resolve) => {
            const req = httpRequest(`${world.api.url}${url}/raw`, { headers: world.api.auth }, (res) => {
              res.once('data', () => {
                res.pause();
                resolve(req);
              });
            });
            req.end();
          }),
      ),
    );
    const busy = await world.api.http.get(url).set(world.api.auth).expect(503);
    expect(busy.body).toMatchObject({ statusCode: 503, code: 'MAILBOX_BUSY' });
    for (const req of stalled) req.destroy();
    await world.api.http.get(url).set(world.api.auth).expect(200);
  });
});
