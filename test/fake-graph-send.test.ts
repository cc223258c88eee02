/**
 * The fake Graph's sending endpoints over real HTTP with tokens from the fake Entra ID: the Graph send
 * transport is tested against them, so they must refuse what Graph refuses (content types, base64,
 * permissions, upload ranges) and answer as Graph documents.
 */
import { randomBytes } from 'node:crypto';
import { FakeEntraId } from '../libs/testing/src/fake-entra';
import { FakeGraph } from '../libs/testing/src/fake-graph';

const APP = '33333333-aaaa-4bbb-8ccc-0000000000a1';
const SEND_SCOPES = 'offline_access https://graph.microsoft.com/Mail.Send https://graph.microsoft.com/Mail.ReadWrite';
const READ_ONLY = 'offline_access https://graph.microsoft.com/Mail.Read';
const ANA = 'ana@contoso.com';
const BEN = 'ben@contoso.com';
const MiB = 1024 * 1024;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('fake Microsoft Graph: sending', () => {
  let entra: FakeEntraId;
  let graph: FakeGraph;
  let token: string;

  async function delegated(username: string, scope: string): Promise<string> {
    const refreshToken = entra.mintRefreshToken(APP, username, scope);
    const response = await fetch(`${entra.plainHttpBaseUrl}/organizations/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: APP, refresh_token: refreshToken }).toString(),
    });
    return ((await response.json()) as Json).access_token as string;
  }

  async function call(method: string, path: string, options: { token?: string; type?: string; body?: string | Buffer; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.Authorization = `Bearer ${options.token}`;
    if (options.type) headers['Content-Type'] = options.type;
    const response = await fetch(path.startsWith('http') ? path : `${graph.baseUrl}${path}`, { method, headers, body: options.body });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: text ? (JSON.parse(text) as Json) : {} };
  }
  const jsonCall = (method: string, path: string, body: unknown, as = token) => call(method, path, { token: as, type: 'application/json', body: JSON.stringify(body) });

  const mime = (subject: string) => Buffer.from(`From: ${ANA}\r\nTo: ${BEN}\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@contoso.com>\r\n\r\nbody\r\n`);

  beforeAll(async () => {
    entra = await FakeEntraId.start();
    graph = await FakeGraph.start({ entra });
    entra.registerApp({ clientId: APP, displayName: 'Sender' });
    for (const user of [ANA, BEN]) {
      entra.addUser({ username: user });
      graph.addUser(user);
    }
    token = await delegated(ANA, SEND_SCOPES);
  });

  afterAll(async () => {
    await graph.stop();
    await entra.stop();
  });

  it('sendMail with base64 MIME (text/plain): 202 with no body; the exact bytes in Sent Items; the recipient gets it', async () => {
    const raw = mime('mime1');
    const answer = await call('POST', '/me/sendMail', { token, type: 'text/plain', body: raw.toString('base64') });
    expect(answer).toMatchObject({ status: 202, text: '' });
    const [sent] = graph.sentMail.filter((m) => m.internetMessageId === '<mime1@contoso.com>');
    expect(sent).toMatchObject({ email: ANA, via: 'sendMail-mime', recipients: [BEN] });
    expect(sent!.mime.equals(raw)).toBe(true);
    expect(graph.messages(ANA, 'sentitems').map((m) => m.internetMessageId)).toContain('<mime1@contoso.com>');
    expect(graph.messages(BEN, 'inbox').map((m) => m.internetMessageId)).toContain('<mime1@contoso.com>');
  });

  it('sendMail with a JSON message: 202; composed with its internetMessageId; saveToSentItems false leaves no copy', async () => {
    const answer = await jsonCall('POST', `/users/${ANA}/sendMail`, {
      message: { subject: 'json', body: { contentType: 'text', content: 'hi' }, toRecipients: [{ emailAddress: { address: BEN } }], internetMessageId: '<json1@contoso.com>' },
    });
    expect(answer.status).toBe(202);
    expect(graph.sentMail.find((m) => m.internetMessageId === '<json1@contoso.com>')).toMatchObject({ via: 'sendMail-json', recipients: [BEN] });
    expect(graph.messages(ANA, 'sentitems').map((m) => m.internetMessageId)).toContain('<json1@contoso.com>');
    const unsaved = await jsonCall('POST', '/me/sendMail', { message: { subject: 'unsaved', toRecipients: [{ emailAddress: { address: BEN } }], internetMessageId: '<json2@contoso.com>' }, saveToSentItems: false });
    expect(unsaved.status).toBe(202);
    expect(graph.sentMail.find((m) => m.internetMessageId === '<json2@contoso.com>')).toMatchObject({ sentItemId: null });
    expect(graph.messages(ANA, 'sentitems').map((m) => m.internetMessageId)).not.toContain('<json2@contoso.com>');
    expect(graph.messages(BEN, 'inbox').map((m) => m.internetMessageId)).toContain('<json2@contoso.com>');
  });

  it("finds a sent message by its Message-ID in Sent Items: $filter=internetMessageId eq '…' answers { value: [...] }; a filter it cannot run is a 400", async () => {
    const raw = Buffer.from(`From: ${ANA}\r\nTo: ${BEN}\r\nSubject: find me\r\nMessage-ID: <o'hara.1@contoso.com>\r\n\r\nbody\r\n`);
    expect((await call('POST', '/me/sendMail', { token, type: 'text/plain', body: raw.toString('base64') })).status).toBe(202);
    const lookUp = (filter: string) => call('GET', `/me/mailFolders/sentitems/messages?$filter=${encodeURIComponent(filter)}&$select=id,internetMessageId`, { token });
    const found = await lookUp("internetMessageId eq '<o''hara.1@contoso.com>'");
    expect(found.status).toBe(200);
    expect(found.json.value).toEqual([{ '@odata.etag': expect.any(String), id: expect.any(String), internetMessageId: "<o'hara.1@contoso.com>" }]);
    // Another folder, another Message-ID: nothing (an empty value, not an error).
    expect((await call('GET', `/me/mailFolders/inbox/messages?$filter=${encodeURIComponent("internetMessageId eq '<o''hara.1@contoso.com>'")}`, { token })).json.value).toEqual([]);
    expect((await lookUp("internetMessageId eq '<never@contoso.com>'")).json.value).toEqual([]);
    const combined = await lookUp("internetMessageId eq '<a@b>' and subject eq 'x'");
    expect([combined.status, combined.json.error.code]).toEqual([400, 'ErrorInvalidUrlQueryFilter']);
    const unknown = await lookUp("messageIdentifier eq '<a@b>'");
    expect([unknown.status, unknown.json.error.code]).toEqual([400, 'RequestBroker--ParseUri']);
  });

  it('refuses what Graph refuses: bad base64, MIME that is not a message, another content type, no message, no recipient, no Mail.Send, a body above 4 MiB', async () => {
    const expectError = (answer: { status: number; json: Json }, status: number, code: string) => {
      expect(answer.status).toBe(status);
      expect(answer.json.error).toMatchObject({ code, message: expect.any(String), innerError: { 'request-id': expect.any(String), date: expect.any(String) } });
    };
    expectError(await call('POST', '/me/sendMail', { token, type: 'text/plain', body: 'not base64!' }), 400, 'ErrorMimeContentInvalidBase64String');
    expectError(await call('POST', '/me/sendMail', { token, type: 'text/plain', body: Buffer.from('no headers here').toString('base64') }), 400, 'ErrorMimeContentInvalid');
    expectError(await call('POST', '/me/sendMail', { token, type: 'application/octet-stream', body: mime('x').toString('base64') }), 400, 'ErrorInvalidRequest');
    expectError(await jsonCall('POST', '/me/sendMail', { saveToSentItems: true }), 400, 'ErrorInvalidParameter');
    expectError(await jsonCall('POST', '/me/sendMail', { message: { subject: 'nobody' } }), 400, 'ErrorInvalidRecipients');
    const reader = await delegated(ANA, READ_ONLY);
    expectError(await call('POST', '/me/sendMail', { token: reader, type: 'text/plain', body: mime('x').toString('base64') }), 403, 'ErrorAccessDenied');
    expectError(await call('POST', '/me/sendMail', { token, type: 'text/plain', body: Buffer.alloc(4 * MiB + 4, 65).toString('latin1') }), 413, 'ErrorRequestEntityTooLarge');
  });

  it('draft + upload session: ranges in order, 320 KiB multiples, no bearer (401), wrong range 416, 201 at the end; /send delivers the bytes', async () => {
    const draft = await jsonCall('POST', '/me/messages', { subject: 'big', body: { contentType: 'html', content: '<p>x</p>' }, toRecipients: [{ emailAddress: { address: BEN } }], internetMessageId: '<big1@contoso.com>' });
    expect(draft.status).toBe(201);
    const messagePath = `/me/messages/${encodeURIComponent(draft.json.id as string)}`;
    const small = await jsonCall('POST', `${messagePath}/attachments/createUploadSession`, { AttachmentItem: { attachmentType: 'file', name: 'small.bin', size: MiB } });
    expect(small.json.error.code).toBe('ErrorAttachmentSizeShouldNotBeLessThanMinimumSize');
    const content = randomBytes(4 * MiB);
    const session = await jsonCall('POST', `${messagePath}/attachments/createUploadSession`, { AttachmentItem: { attachmentType: 'file', name: 'big.bin', size: content.length, contentType: 'application/pdf' } });
    expect(session).toMatchObject({ status: 200, json: { uploadUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/upload\//), expirationDateTime: expect.any(String), nextExpectedRanges: ['0-'] } });
    const url = session.json.uploadUrl as string;
    const put = (start: number, end: number, headers: Record<string, string> = {}) =>
      call('PUT', url, { body: content.subarray(start, end + 1), headers: { 'Content-Range': `bytes ${start}-${end}/${content.length}`, ...headers } });
    const chunk = 10 * 320 * 1024;
    expect((await put(0, chunk - 1, { Authorization: `Bearer ${token}` })).status).toBe(401);
    expect((await put(1000, chunk - 1)).status).toBe(416);
    expect((await put(0, 999_999)).json.error.code).toBe('ErrorInvalidRange');
    expect(await put(0, chunk - 1)).toMatchObject({ status: 200, json: { nextExpectedRanges: [`${chunk}-`] } });
    expect((await put(chunk, content.length - 1)).status).toBe(201);
    expect((await call('POST', `${messagePath}/send`, { token })).status).toBe(202);
    const sent = graph.sentMail.find((m) => m.internetMessageId === '<big1@contoso.com>');
    expect(sent).toMatchObject({ via: 'draft', recipients: [BEN] });
    expect(sent!.attachments[0]).toMatchObject({ name: 'big.bin', contentType: 'application/pdf', via: 'uploadSession' });
    expect(sent!.attachments[0]!.content.equals(content)).toBe(true);
    expect(graph.draftCount).toBe(0);
    expect((await call('POST', `${messagePath}/send`, { token })).status).toBe(404);
  });

  it('failNext: a Graph error with Retry-After for the matching request only', async () => {
    graph.failNext(1, { status: 429, code: 'TooManyRequests', message: 'Please retry again later.', retryAfterSeconds: 3, email: ANA, path: /sendMail$/ });
    const throttled = await call('POST', '/me/sendMail', { token, type: 'text/plain', body: mime('t1').toString('base64') });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('3');
    expect(throttled.json.error.code).toBe('TooManyRequests');
    expect((await call('POST', '/me/sendMail', { token, type: 'text/plain', body: mime('t1').toString('base64') })).status).toBe(202);
  });
});
