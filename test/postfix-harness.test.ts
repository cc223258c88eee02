/**
 * The Postfix harness of the test library (libs/testing/src/postfix): a real submission server whose
 * clients authenticate through Dovecot SASL (password, XOAUTH2 introspected at the fake Entra ID) and
 * whose mail is delivered over LMTP into that Dovecot, read back here over IMAP. Proven with the SMTP
 * client the product uses (nodemailer).
 */
import { ImapFlow } from 'imapflow';
import { createTransport } from 'nodemailer';
import { request } from 'undici';
import { DovecotServer } from '../libs/testing/src/dovecot';
import { FakeEntraId } from '../libs/testing/src/fake-entra';
import { PostfixServer } from '../libs/testing/src/postfix';

const CLIENT_ID = '22222222-aaaa-4bbb-8ccc-000000000002';
const CLIENT_SECRET = 'smtp-app-secret';
const ANA = 'ana@contoso.com';
const BEN = 'ben@contoso.com';

let entra: FakeEntraId;
let dovecot: DovecotServer;
let postfix: PostfixServer;

async function accessTokenFor(username: string): Promise<string> {
  const response = await request(entra.tokenEndpoint().replace(entra.authorityHost, entra.plainHttpBaseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      refresh_token: entra.mintRefreshToken(CLIENT_ID, username, 'offline_access https://outlook.office.com/SMTP.Send'),
      scope: 'offline_access https://outlook.office.com/SMTP.Send',
    }).toString(),
  });
  const body = (await response.body.json()) as { access_token?: string };
  expect(response.statusCode).toBe(200);
  return body.access_token as string;
}

/** Waits until the message with this Message-ID is in the user's INBOX (LMTP delivery is asynchronous). */
async function waitForMessage(username: string, messageId: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const imap = new ImapFlow({ host: dovecot.host, port: dovecot.port, secure: false, auth: { user: username, pass: 'pw' }, logger: false });
  imap.on('error', () => undefined);
  await imap.connect();
  try {
    await imap.mailboxOpen('INBOX');
    for (;;) {
      const uids = await imap.search({ header: { 'message-id': messageId } }, { uid: true });
      if (uids && uids.length > 0) {
        const message = await imap.fetchOne(String(uids[0]), { source: true }, { uid: true });
        return message ? message.source!.toString('utf8') : '';
      }
      if (Date.now() > deadline) throw new Error(`${messageId} not in ${username}'s INBOX after ${timeoutMs} ms\n${postfix.logTail(20)}`);
      await imap.noop();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await imap.logout().catch(() => undefined);
  }
}

beforeAll(async () => {
  entra = await FakeEntraId.start();
  entra.registerApp({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  entra.addUser({ username: ANA });
  entra.addUser({ username: BEN });
  dovecot = await DovecotServer.start({
    users: [
      { username: ANA, password: 'pw' },
      { username: BEN, password: 'pw' },
    ],
    oauth2IntrospectionUrl: entra.introspectionUrl,
    oauth2IntrospectionCaPem: entra.caPem,
    oauth2Mechanisms: ['xoauth2'],
    mtaSockets: true,
  });
  postfix = await PostfixServer.start({ dovecot, domains: ['contoso.com'] });
}, 60_000);

afterAll(async () => {
  await postfix?.destroy();
  await dovecot?.destroy();
  await entra?.stop();
});

describe('PostfixServer', () => {
  it('takes a password login with STARTTLS and delivers into the recipient mailbox', async () => {
    const transport = createTransport({ host: postfix.host, port: postfix.port, secure: false, requireTLS: true, tls: { ca: postfix.caPem }, auth: { user: ANA, pass: 'pw' } });
    const info = await transport.sendMail({ from: ANA, to: BEN, subject: 'Over STARTTLS', text: 'hello' });
    transport.close();
    expect(info.accepted).toEqual([BEN]);
    const raw = await waitForMessage(BEN, info.messageId);
    expect(raw).toContain('Subject: Over STARTTLS');
  });

  it('takes an XOAUTH2 login over implicit TLS', async () => {
    const token = await accessTokenFor(ANA);
    const transport = createTransport({ host: postfix.host, port: postfix.tlsPort, secure: true, tls: { ca: postfix.caPem }, auth: { type: 'OAuth2', user: ANA, accessToken: token } });
    const info = await transport.sendMail({ from: ANA, to: BEN, subject: 'Over XOAUTH2', text: 'hello' });
    transport.close();
    const raw = await waitForMessage(BEN, info.messageId);
    expect(raw).toContain('Subject: Over XOAUTH2');
  });

  it('answers 535 to a wrong password and an invalid token', async () => {
    const wrong = createTransport({ host: postfix.host, port: postfix.port, secure: false, tls: { ca: postfix.caPem }, auth: { user: ANA, pass: 'nope' } });
    await expect(wrong.sendMail({ from: ANA, to: BEN, text: 'x' })).rejects.toMatchObject({ responseCode: 535 });
    const forged = createTransport({ host: postfix.host, port: postfix.port, secure: false, tls: { ca: postfix.caPem }, auth: { type: 'OAuth2', user: ANA, accessToken: 'not-a-token' } });
    await expect(forged.sendMail({ from: ANA, to: BEN, text: 'x' })).rejects.toMatchObject({ responseCode: 535 });
  });

  it('refuses to relay anywhere else and to send without logging in', async () => {
    // Plain text (no STARTTLS) is allowed too: that is what a provider with smtp.security "none" does.
    const transport = createTransport({ host: postfix.host, port: postfix.port, secure: false, ignoreTLS: true, auth: { user: ANA, pass: 'pw' } });
    const elsewhere = await transport.sendMail({ from: ANA, to: 'someone@elsewhere.example', text: 'x' }).catch((error: { responseCode?: number }) => error);
    expect(elsewhere.responseCode).toBeGreaterThanOrEqual(550);
    const anonymous = createTransport({ host: postfix.host, port: postfix.port, secure: false, ignoreTLS: true });
    await expect(anonymous.sendMail({ from: ANA, to: BEN, text: 'x' })).rejects.toMatchObject({ responseCode: 554 });
  });
});
