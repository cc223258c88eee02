import { request as httpRequest } from 'node:http';
import { graphMessageRef } from '@app/events';
import { GraphWorld, queryDatabase } from '@app/testing';

const CRLF = '\r\n';
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
const PDF = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(5000, 3), Buffer.from('\n%%EOF\n')]);

function b64(data: Buffer): string {
  return (data.toString('base64').match(/.{1,76}/g) ?? []).join(CRLF);
}

function mime(to: string): Buffer {
  return Buffer.from(
    [
      'From: "Bo Li" <bo@fabrikam.com>',
      `To: ${to}`,
      'Subject: Graph numbers',
      'Date: Sat, 21 Nov 2026 10:00:00 +0000',
      'Message-ID: <g1@fabrikam.com>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="m"',
      '',
      '--m',
      'Content-Type: multipart/related; boundary="r"',
      '',
      '--r',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>Hi <img src="cid:logo@fabrikam"></p>',
      '--r',
      'Content-Type: image/png; name="logo.png"',
      'Content-Transfer-Encoding: base64',
      'Content-ID: <logo@fabrikam>',
      'Content-Disposition: inline; filename="logo.png"',
      '',
      b64(PNG),
      '--r--',
      '--m',
      'Content-Type: application/pdf',
      'Content-Transfer-Encoding: base64',
      "Content-Disposition: attachment; filename*=UTF-8''%C3%84rger.pdf",
      '',
      b64(PDF),
      '--m--',
      '',
    ].join(CRLF),
  );
}

function get(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), complete: res.complete }));
    })
      .on('error', reject)
      .end();
  });
}

describe('Reading messages over Microsoft Graph (fake Graph and Entra ID, Postgres, Redis)', () => {
  const world = new GraphWorld();
  let seq = 0;
  const email = () => `graphread${++seq}@contoso.com`;
  const base = (mailboxId: string, ref: string) => `/v1/mailboxes/${mailboxId}/messages/${ref}`;

  beforeAll(() => world.start({ push: false }), 60_000);
  afterAll(() => world.stop());

  async function connectedMailbox() {
    const mailbox = await world.mailbox(email());
    await world.waitForState(mailbox.id, 'connected');
    return mailbox;
  }

  it('parsed (from /$value, with Graph attachment ids), raw and attachments through Graph; isRead untouched; the event ref opens it', async () => {
    const mailbox = await connectedMailbox();
    const raw = mime(mailbox.email);
    const delivered = world.graph.deliver(mailbox.email, {
      subject: 'Graph numbers',
      internetMessageId: '<g1@fabrikam.com>',
      mime: raw,
      attachments: [
        { name: 'logo.png', contentType: 'image/png', content: PNG, isInline: true, contentId: 'logo@fabrikam' },
        { name: 'Ärger.pdf', contentType: 'application/pdf', content: PDF },
      ],
    });
    const [job] = await world.waitForReceived(mailbox.id, 1);
    const ref = job.data.message.ref;
    expect(ref).toBe(graphMessageRef(mailbox.id, 'INBOX', delivered.immutableId));

    const parsed = (await world.api.http.get(base(mailbox.id, ref)).set(world.api.auth).expect(200)).body;
    const stored = world.graph.message(mailbox.email, delivered.immutableId);
    expect(parsed).toMatchObject({
      ref,
      folder: 'INBOX',
      subject: 'Graph numbers',
      from: { name: 'Bo Li', address: 'bo@fabrikam.com' },
      internetMessageId: '<g1@fabrikam.com>',
      html: expect.stringContaining('cid:logo@fabrikam'),
      receivedAt: new Date(delivered.receivedDateTime).toISOString(),
    });
    const listed = (await world.api.http.get(base(mailbox.id, ref)).set(world.api.auth)).body.attachments as Array<Record<string, unknown>>;
    expect(listed).toEqual([
      { id: expect.any(String), filename: 'logo.png', contentType: 'image/png', size: PNG.length, contentId: 'logo@fabrikam', inline: true },
      { id: expect.any(String), filename: 'Ärger.pdf', contentType: 'application/pdf', size: PDF.length, contentId: null, inline: false },
    ]);

    const rawRead = await get(`${world.api.url}${base(mailbox.id, ref)}/raw`, world.api.auth);
    expect(rawRead).toMatchObject({ status: 200, complete: true });
    expect(rawRead.headers['content-type']).toBe('message/rfc822');
    expect(rawRead.body.equals(raw)).toBe(true);
    const pdf = await get(`${world.api.url}${base(mailbox.id, ref)}/attachments/${encodeURIComponent(listed[1].id as string)}`, world.api.auth);
    expect(pdf.status).toBe(200);
    expect(pdf.body.equals(PDF)).toBe(true);
    expect(pdf.headers['content-disposition']).toBe(`attachment; filename="?rger.pdf"; filename*=UTF-8''%C3%84rger.pdf`);
    const logo = await get(`${world.api.url}${base(mailbox.id, ref)}/attachments/${encodeURIComponent(listed[0].id as string)}`, world.api.auth);
    expect(logo.body.equals(PNG)).toBe(true);
    expect(logo.headers['content-type']).toBe('image/png');
    await world.api.http.get(`${base(mailbox.id, ref)}/attachments/AAMkADnope`).set(world.api.auth).expect(404);
    expect(stored?.isRead).toBe(false);
    expect(world.graph.message(mailbox.email, delivered.immutableId)?.isRead).toBe(false);
  });

  it('deleted → 404; token refused by Graph → 409 GRAPH_UNAUTHORIZED; token invalid → 409 TOKEN_INVALID; expired → 409 TOKEN_EXPIRED; IMAP ref → 404', async () => {
    const mailbox = await connectedMailbox();
    const message = world.graph.deliver(mailbox.email, { subject: 'short-lived' });
    const ref = graphMessageRef(mailbox.id, 'INBOX', message.immutableId);
    await world.api.http.get(base(mailbox.id, ref)).set(world.api.auth).expect(200);
    world.graph.deleteMessage(mailbox.email, message.immutableId);
    expect((await world.api.http.get(base(mailbox.id, ref)).set(world.api.auth).expect(404)).body).toMatchObject({ code: 'MESSAGE_NOT_FOUND' });
    await world.api.http.get(`${base(mailbox.id, ref)}/raw`).set(world.api.auth).expect(404);
    await world.api.http.get(base(mailbox.id, 'i1.AAAAAAAA.fSU5CT1g.1.2')).set(world.api.auth).expect(404);

    const other = await connectedMailbox();
    const kept = world.graph.deliver(other.email, { subject: 'kept' });
    const keptRef = graphMessageRef(other.id, 'INBOX', kept.immutableId);
    await world.api.http.get(base(other.id, keptRef)).set(world.api.auth).expect(200);
    await world.api.http.get(base(mailbox.id, keptRef)).set(world.api.auth).expect(404);

    world.entra.invalidateAccessTokens(other.email);
    const refused = await world.api.http.get(base(other.id, keptRef)).set(world.api.auth).expect(409);
    expect(refused.body).toMatchObject({ statusCode: 409, code: 'GRAPH_UNAUTHORIZED' });

    const [token] = await queryDatabase<{ id: string; expires_at: Date }>(world.db.url, `SELECT id, expires_at FROM oauth_tokens WHERE mailbox_id = $1`, [other.id]);
    await queryDatabase(world.db.url, `UPDATE oauth_tokens SET expires_at = now() - interval '1 minute' WHERE id = $1`, [token.id]);
    expect((await world.api.http.get(base(other.id, keptRef)).set(world.api.auth).expect(409)).body).toMatchObject({ code: 'TOKEN_EXPIRED', message: expect.stringMatching(/listener refreshes it/) });
    await queryDatabase(world.db.url, `UPDATE oauth_tokens SET state = 'invalid' WHERE id = $1`, [token.id]);
    expect((await world.api.http.get(base(other.id, keptRef)).set(world.api.auth).expect(409)).body).toMatchObject({ code: 'TOKEN_INVALID' });
  });
});
