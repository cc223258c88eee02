/**
 * Sending end to end: the API queues, the listener's mail-send worker sends, against real servers —
 * Postfix authenticating through Dovecot SASL (password, XOAUTH2 introspected at the fake Entra ID) and
 * delivering over LMTP into Dovecot, where the message is read back over IMAP and where the listener of
 * the recipient's mailbox publishes it as mail.received (the whole loop). Faults a real MTA cannot be
 * asked to make (451 then accepted, 550, a connection closed after DATA) come from a small scripted
 * server (smtp-server). Outcomes are read from GET …/outbox/:sendId and the mail-events queue.
 */
import { randomBytes } from 'node:crypto';
import { ImapFlow } from 'imapflow';
import { DovecotServer, FaultySmtpServer, OAuthWorld, PostfixServer } from '@app/testing';
import { queryDatabase } from '../libs/testing/src/test-database';
import { MAIL_SEND_QUEUE } from '@app/sending';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { execFileSync } from 'child_process';

const ANA = 'ana@contoso.com';
const BEN = 'ben@contoso.com';
const CARLA = 'carla@fabrikam.com';
/** Known to Dovecot (so Postfix's SASL), on a send-only provider: its mailbox is created with a wrong password first. */
const DAVE = 'dave@send.example';

describe('sending mail (real Postfix + Dovecot, fake Entra ID, scripted SMTP faults)', () => {
  const world = new OAuthWorld();
  let dovecot: DovecotServer;
  let postfix: PostfixServer;
  let faulty: FaultySmtpServer;
  let anaId: string;
  let benId: string;
  let carlaId: string;
  let faultyId: string;
  let wrongPasswordId: string;
  let daveId: string;
  let strictTlsId: string;
  let localProviderId: string;
  let faultyProviderId: string;

  const post = async (mailboxId: string, body: object, key?: string): Promise<string> => {
    const request = world.api.http.post(`/v1/mailboxes/${mailboxId}/outbox`).set(world.api.auth);
    if (key) request.set('Idempotency-Key', key);
    return (await request.send(body).expect(202)).body.id as string;
  };
  const sendStatus = async (mailboxId: string, sendId: string) => (await world.api.http.get(`/v1/mailboxes/${mailboxId}/outbox/${sendId}`).set(world.api.auth).expect(200)).body;
  const settled = (mailboxId: string, sendId: string) =>
    world.waitFor(() => sendStatus(mailboxId, sendId), (s) => s.state === 'sent' || s.state === 'failed', 30_000, `send ${sendId} to settle`);
  /** The send's events of `type` on mail-events, once there is one: they are relayed from the event outbox after the outcome is committed, so the API may show the state first. */
  const eventsOf = (type: string, sendId: string) =>
    world.waitFor(async () => (await world.events.jobs()).filter((job) => job.name === type && job.data.send.id === sendId), (jobs) => jobs.length > 0, 10_000, `${type} of send ${sendId}`);

  const postfixLog = (pattern: RegExp) => (postfix.logTail(1_000_000).match(pattern) ?? []).length;
  /** Every SMTP session Postfix had is closed (pooled ones after SEND_CONNECTION_IDLE_MS). */
  const postfixSessionsClosed = () =>
    world.waitFor(
      async () => ({ connects: postfixLog(/smtpd\[\d+\]: connect from /g), disconnects: postfixLog(/smtpd\[\d+\]: disconnect from /g) }),
      (n) => n.connects === n.disconnects,
      15_000,
      'the pooled SMTP sessions to be closed',
    );

  /** The messages in the user's INBOX with this Message-ID (read over IMAP, as the recipient would). */
  async function inbox(username: string, messageId: string): Promise<string[]> {
    const imap = new ImapFlow({ host: dovecot.host, port: dovecot.port, secure: false, auth: { user: username, pass: 'pw' }, logger: false });
    imap.on('error', () => undefined);
    await imap.connect();
    try {
      await imap.mailboxOpen('INBOX');
      const uids = (await imap.search({ header: { 'message-id': messageId } }, { uid: true })) || [];
      const sources: string[] = [];
      for (const uid of uids) {
        const message = await imap.fetchOne(String(uid), { source: true }, { uid: true });
        if (message && message.source) sources.push(message.source.toString('utf8'));
      }
      return sources;
    } finally {
      await imap.logout().catch(() => undefined);
    }
  }
  const delivered = (username: string, messageId: string, count = 1) => world.waitFor(() => inbox(username, messageId), (found) => found.length >= count, 15_000, `${messageId} in ${username}'s INBOX`);

  beforeAll(async () => {
    await world.start({ listener: true, env: { SYNC_RECONCILE_INTERVAL_MS: '200', SEND_RETRY_BASE_MS: '50', SEND_RETRY_MAX_MS: '200', SEND_CONNECTION_IDLE_MS: '500' } });
    dovecot = await DovecotServer.start({
      users: [ANA, BEN, CARLA, DAVE].map((username) => ({ username, password: 'pw' })),
      oauth2IntrospectionUrl: `${world.entra.plainHttpBaseUrl}/introspect`,
      oauth2Mechanisms: ['xoauth2'],
      mtaSockets: true,
    });
    postfix = await PostfixServer.start({ dovecot, domains: ['contoso.com', 'fabrikam.com'] });
    faulty = await FaultySmtpServer.start();
    const provider = async (body: object) => (await world.api.http.post('/v1/providers').set(world.api.auth).send(body).expect(201)).body.id as string;
    // Password mailboxes that receive too: Ben's listener publishes what Ana sends him.
    localProviderId = await provider({
      name: 'Local',
      type: 'imap',
      host: '127.0.0.1',
      port: dovecot.port,
      secure: false,
      verifyCertificate: false,
      sendEmails: true,
      smtp: { host: '127.0.0.1', port: postfix.port, security: 'starttls' },
      domains: ['contoso.com'],
    });
    // OAuth: send only, over implicit TLS.
    await world.createMicrosoftProvider({
      name: 'Exchange-like',
      domains: ['fabrikam.com'],
      loadEmails: false,
      sendEmails: true,
      verifyCertificate: false,
      smtp: { host: '127.0.0.1', port: postfix.tlsPort, security: 'tls' },
    } as never);
    faultyProviderId = await provider({ name: 'Faulty', type: 'imap', host: '127.0.0.1', loadEmails: false, sendEmails: true, smtp: { host: '127.0.0.1', port: faulty.port, security: 'none' }, domains: ['faulty.example'] });
    await provider({ name: 'Send only', type: 'imap', host: '127.0.0.1', port: dovecot.port, loadEmails: false, sendEmails: true, verifyCertificate: false, smtp: { host: '127.0.0.1', port: postfix.port, security: 'starttls' }, domains: ['send.example'] });
    await provider({ name: 'Strict', type: 'imap', host: '127.0.0.1', loadEmails: false, sendEmails: true, smtp: { host: '127.0.0.1', port: postfix.tlsPort, security: 'tls' }, domains: ['strict.example'] });
    const mailbox = async (email: string, password?: string) => (await world.api.http.post('/v1/mailboxes').set(world.api.auth).send({ email, password }).expect(201)).body.id as string;
    anaId = await mailbox(ANA, 'pw');
    benId = await mailbox(BEN, 'pw');
    faultyId = await mailbox('crm@faulty.example', 'password');
    wrongPasswordId = await mailbox('wrong@faulty.example', 'not-the-password');
    strictTlsId = await mailbox('ana@strict.example', 'pw');
    daveId = await mailbox(DAVE, 'not-the-password');
    world.entra.addUser({ username: CARLA });
    carlaId = await mailbox(CARLA);
    const refreshToken = await world.refreshTokenFor(CARLA, 'offline_access https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send');
    await world.api.http.put(`/v1/mailboxes/${carlaId}/token`).set(world.api.auth).send({ refreshToken }).expect(200);
    await world.waitFor(() => world.status(benId), (s) => s.connection.state === 'connected', 20_000, "Ben's mailbox to be listened to");
  }, 120_000);

  afterAll(async () => {
    await world.stop();
    await faulty?.stop();
    await postfix?.destroy();
    await dovecot?.destroy();
  });

  beforeEach(() => {
    faulty.script();
  });

  it('sends with the password over STARTTLS: in the recipient mailbox, mail.sent, and the recipient listener publishes mail.received', async () => {
    const id = await post(anaId, { to: [`Ben <${BEN}>`], subject: 'Over STARTTLS', text: 'hello Ben', attachments: [{ filename: 'a.txt', contentType: 'text/plain', content: Buffer.from('attached').toString('base64') }] });
    const status = await settled(anaId, id);
    expect(status).toMatchObject({ state: 'sent', attempts: 1, lastError: null, sentAt: expect.any(String) });
    const [raw] = await delivered(BEN, status.messageId);
    expect(raw).toMatch(/^From: ana@contoso\.com\r?$/m);
    expect(raw).toContain('Subject: Over STARTTLS');
    expect(raw).toContain(Buffer.from('attached').toString('base64'));
    const [sent] = await eventsOf('mail.sent', id);
    expect(sent.data).toMatchObject({ type: 'mail.sent', mailbox: { id: anaId, email: ANA }, send: { id, messageId: status.messageId, recipients: [BEN], attempts: 1, sentAt: status.sentAt, response: status.response } });
    await world.waitFor(
      async () => (await world.events.jobs()).filter((job) => job.name === 'mail.received' && job.data.mailbox.id === benId && job.data.message.internetMessageId === status.messageId),
      (jobs) => jobs.length === 1,
      15_000,
      "Ben's mail.received",
    );
  });

  it('a message above 1 MiB goes out streamed (its first 4 chunks read with the send, the rest as SMTP takes them), byte for byte', async () => {
    const attachment = randomBytes(1536 * 1024).toString('base64');
    const id = await post(anaId, { to: [BEN], subject: 'Large', text: 'see attached', attachments: [{ filename: 'big.bin', contentType: 'application/octet-stream', content: attachment }] });
    const status = await settled(anaId, id);
    expect(status).toMatchObject({ state: 'sent', attempts: 1, lastError: null });
    const [raw] = await delivered(BEN, status.messageId);
    expect(raw.replace(/\r?\n/g, '')).toContain(attachment);
  });

  it('sends with XOAUTH2 over implicit TLS', async () => {
    const id = await post(carlaId, { to: [BEN], subject: 'Over XOAUTH2', text: 'hi' });
    const status = await settled(carlaId, id);
    expect(status).toMatchObject({ state: 'sent', attempts: 1 });
    const [raw] = await delivered(BEN, status.messageId);
    expect(raw).toMatch(/^From: carla@fabrikam\.com\r?$/m);
  });

  it('an access token the server refuses is refreshed once and the send goes through, once', async () => {
    // A new login is needed to see the refusal: the session Carla's last send logged in stays logged in
    // until it has been idle for SEND_CONNECTION_IDLE_MS (a token is checked at login only).
    await postfixSessionsClosed();
    world.entra.invalidateAccessTokens(CARLA);
    const issuedBefore = world.entra.issuedAccessTokens.filter((t) => t.username === CARLA).length;
    const id = await post(carlaId, { to: [BEN], subject: 'After a refresh', text: 'hi' });
    const status = await settled(carlaId, id);
    expect(status).toMatchObject({ state: 'sent', attempts: 1 });
    expect(world.entra.issuedAccessTokens.filter((t) => t.username === CARLA).length).toBe(issuedBefore + 1);
    expect(await delivered(BEN, status.messageId)).toHaveLength(1);
  });

  it('the same Idempotency-Key sends once', async () => {
    const body = { to: [BEN], subject: 'Idempotent', text: 'once' };
    const first = await post(anaId, body, 'send-once-1');
    const second = await post(anaId, body, 'send-once-1');
    expect(second).toBe(first);
    const status = await settled(anaId, first);
    expect(status.state).toBe('sent');
    await delivered(BEN, status.messageId);
    // A third request after the send: still the same send, nothing new queued or delivered.
    expect(await post(anaId, body, 'send-once-1')).toBe(first);
    expect(await inbox(BEN, status.messageId)).toHaveLength(1);
    expect(await eventsOf('mail.sent', first)).toHaveLength(1);
  });

  it('a refused password (535) fails at once with "Check the password"', async () => {
    const id = await post(wrongPasswordId, { to: ['x@faulty.example'], text: 'x' });
    const status = await settled(wrongPasswordId, id);
    expect(status).toMatchObject({ state: 'failed', attempts: 1, lastError: { code: 'SMTP_AUTH_FAILED', message: expect.stringMatching(/535.*Check the password$/) } });
    const [failed] = await eventsOf('mail.send_failed', id);
    expect(failed.data).toMatchObject({ type: 'mail.send_failed', reason: { code: 'SMTP_AUTH_FAILED' }, send: { id, attempts: 1 } });
    expect(faulty.messages).toHaveLength(0);
  });

  it('Postfix refusing the password (535): the send fails with "Check the password", the mailbox status shows it until a send goes through', async () => {
    const mailboxStatus = async () => (await world.api.http.get(`/v1/mailboxes/${daveId}/status`).set(world.api.auth).expect(200)).body;
    expect((await mailboxStatus()).sending).toEqual({ lastError: null });
    const id = await post(daveId, { to: [BEN], text: 'x' });
    const status = await settled(daveId, id);
    expect(status).toMatchObject({ state: 'failed', attempts: 1, lastError: { code: 'SMTP_AUTH_FAILED', message: expect.stringMatching(/535.*Check the password$/) } });
    const shown = await mailboxStatus();
    expect(shown.sending.lastError).toEqual({ code: 'SMTP_AUTH_FAILED', message: status.lastError.message, at: expect.any(String) });
    expect(shown.recommendedAction).toMatch(/^Sending fails: .*Check the password$/);
    // Not the connection's state: that is the listener's (IMAP may well log in while SMTP refuses).
    expect(shown.connection.state).not.toBe('auth_error');

    await world.api.http.patch(`/v1/mailboxes/${daveId}`).set(world.api.auth).send({ password: 'pw' }).expect(200);
    const again = await post(daveId, { to: [BEN], subject: 'With the right password', text: 'x' });
    const sent = await settled(daveId, again);
    expect(sent.state).toBe('sent');
    await delivered(BEN, sent.messageId);
    const cleared = await mailboxStatus();
    expect(cleared.sending).toEqual({ lastError: null });
    expect(cleared.recommendedAction ?? '').not.toMatch(/Sending fails/);
  });

  it('a login the server cannot check now (454 4.7.0): retried with backoff, not "Check the password", sent once', async () => {
    // Postfix with Dovecot SASL answers 535 even while Dovecot's passdb fails temporarily, so the 454 a
    // server sends while its auth backend is down is scripted. A new mailbox: no pooled session skips AUTH.
    const tempAuthId = (await world.api.http.post('/v1/mailboxes').set(world.api.auth).send({ email: 'tempauth@faulty.example', password: 'password' }).expect(201)).body.id as string;
    faulty.scriptLogins({ code: 454, text: '4.7.0 Temporary authentication failure' }, { code: 454, text: '4.7.0 Temporary authentication failure' });
    const id = await post(tempAuthId, { to: ['x@faulty.example'], text: 'once the server can check' });
    const status = await settled(tempAuthId, id);
    expect(status).toMatchObject({ state: 'sent', attempts: 3, lastError: { code: 'SMTP_454', message: 'The server answered AUTH with 454 4.7.0 Temporary authentication failure' } });
    expect(faulty.messages.splice(0).map((m) => m.accepted)).toEqual([true]);
    expect(await eventsOf('mail.sent', id)).toHaveLength(1);
    const shown = (await world.api.http.get(`/v1/mailboxes/${tempAuthId}/status`).set(world.api.auth).expect(200)).body;
    expect(shown.sending).toEqual({ lastError: null });
  });

  it("reuses the mailbox's SMTP sessions under load: Postfix sees fewer connections than messages (SEND_CONNECTIONS_PER_MAILBOX=2)", async () => {
    const connects = () => postfixLog(/smtpd\[\d+\]: connect from /g);
    const before = connects();
    const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => post(anaId, { to: [BEN], subject: `Reused ${i}`, text: 'x' })));
    const statuses = await Promise.all(ids.map((id) => settled(anaId, id)));
    expect(statuses.map((s) => s.state)).toEqual(Array(8).fill('sent'));
    for (const s of statuses) expect(await delivered(BEN, s.messageId)).toHaveLength(1);
    expect(connects() - before).toBeLessThanOrEqual(2);
  });

  it('a pooled session the server dropped while idle is replaced: the next send goes through, once', async () => {
    const first = await post(faultyId, { to: ['x@faulty.example'], text: 'opens a session' });
    expect((await settled(faultyId, first)).state).toBe('sent');
    const connections = faulty.connections;
    faulty.dropConnections();
    const second = await post(faultyId, { to: ['x@faulty.example'], text: 'after the drop' });
    expect(await settled(faultyId, second)).toMatchObject({ state: 'sent', attempts: 1, lastError: null });
    expect(faulty.messages.splice(0).map((m) => m.accepted)).toEqual([true, true]);
    expect(faulty.connections).toBe(connections + 1);
  });

  it('550 fails at once with the server reply', async () => {
    faulty.script({ code: 550, text: '5.7.1 Message rejected as spam' });
    const id = await post(faultyId, { to: ['x@faulty.example'], text: 'spam?' });
    const status = await settled(faultyId, id);
    expect(status).toMatchObject({ state: 'failed', attempts: 1, lastError: { code: 'SMTP_550', message: expect.stringContaining('5.7.1 Message rejected as spam') } });
    expect(faulty.messages.splice(0)).toHaveLength(1);
    // The outcome and its event are one statement: the event is there, with the row's error.
    const [failed] = await eventsOf('mail.send_failed', id);
    expect(failed.data).toMatchObject({ type: 'mail.send_failed', send: { id, messageId: status.messageId, attempts: 1 }, reason: { code: 'SMTP_550' } });
  });

  it('451 then accepted: retried with backoff and sent once', async () => {
    faulty.script({ code: 451, text: '4.3.0 Try again later' });
    const id = await post(faultyId, { to: ['x@faulty.example'], text: 'eventually' });
    const status = await settled(faultyId, id);
    expect(status).toMatchObject({ state: 'sent', attempts: 2, lastError: { code: 'SMTP_451', message: expect.stringContaining('4.3.0 Try again later') } });
    const received = faulty.messages.splice(0);
    expect(received.map((m) => m.accepted)).toEqual([false, true]);
    expect(await eventsOf('mail.sent', id)).toHaveLength(1);
  });

  it('a connection closed after DATA without a reply is not delivered (RFC 5321): sent again', async () => {
    faulty.script('drop');
    const id = await post(faultyId, { to: ['x@faulty.example'], text: 'dropped once' });
    const status = await settled(faultyId, id);
    expect(status).toMatchObject({ state: 'sent', attempts: 2, lastError: { code: 'SMTP_NETWORK' } });
    expect(faulty.messages.splice(0).map((m) => m.accepted)).toEqual([false, true]);
  });

  it('an attempt found in flight (its worker died after handing the message over) is not sent again', async () => {
    // What a worker killed between "the server accepted DATA" and "recorded" leaves behind: the send still
    // `sending` with its hand-over recorded, and its job run again once BullMQ sees it stalled.
    const redis = new Redis(world.config.redisUrl);
    const sendQueue = new Queue(MAIL_SEND_QUEUE, { connection: redis, prefix: world.config.queuePrefix });
    const id = await post(faultyId, { to: ['x@faulty.example'], text: 'maybe sent' }, 'in-flight-1');
    const sent = await settled(faultyId, id);
    expect(sent.state).toBe('sent');
    const connections = faulty.connections;
    await queryDatabase(world.db.url, `UPDATE mail_sends SET state = 'sending', in_flight_since = now() - interval '1 minute', sent_at = NULL WHERE id = $1`, [id]);
    await sendQueue.add('send', { sendId: id, queuedAt: Date.now() }, { jobId: `${id}-rerun` });
    const status = await settled(faultyId, id);
    expect(status).toMatchObject({ state: 'failed', lastError: { code: 'SEND_OUTCOME_UNKNOWN', message: expect.stringContaining(sent.messageId) } });
    expect(faulty.connections).toBe(connections);
    faulty.messages.splice(0);
    await sendQueue.close();
    redis.disconnect();
  });

  it('verifyCertificate on: a self-signed server certificate fails the send with the reason', async () => {
    const id = await post(strictTlsId, { to: [BEN], text: 'x' });
    const status = await settled(strictTlsId, id);
    expect(status).toMatchObject({ state: 'failed', attempts: 1, lastError: { code: 'SMTP_TLS', message: expect.stringMatching(/SELF_SIGNED|self-signed/i) } });
  });

  it("the listener counts sends by result and provider, the API reports the outbox depth, and promtool accepts both", async () => {
    const listenerMetrics = async () => (await fetch(`${world.listener!.url}/metrics`)).text();
    const count = (provider: string, result: string) => world.metric(world.listener!.url, 'mail_listener_sends_total', { result, provider });
    const counts = async () => ({
      localSent: await count(localProviderId, 'sent'),
      faultySent: await count(faultyProviderId, 'sent'),
      faultyFailed: await count(faultyProviderId, 'failed'),
      faultyRetried: await count(faultyProviderId, 'retried'),
      durations: await world.metric(world.listener!.url, 'mail_listener_send_duration_seconds_count'),
    });
    const before = await counts();
    // One of each: sent, failed (550), retried then sent (451 once).
    const sent = await post(anaId, { to: [BEN], text: 'counted' });
    expect((await settled(anaId, sent)).state).toBe('sent');
    faulty.script({ code: 550, text: '5.7.1 No' });
    const failed = await post(faultyId, { to: ['x@faulty.example'], text: 'counted' });
    expect((await settled(faultyId, failed)).state).toBe('failed');
    faulty.script({ code: 451, text: '4.3.0 Later' });
    const retried = await post(faultyId, { to: ['x@faulty.example'], text: 'counted' });
    expect((await settled(faultyId, retried)).state).toBe('sent');
    faulty.messages.splice(0);
    // Counted just after the outcome is committed (which the API already shows): wait for it, then compare exactly.
    const expected = { localSent: before.localSent + 1, faultySent: before.faultySent + 1, faultyFailed: before.faultyFailed + 1, faultyRetried: before.faultyRetried + 1, durations: before.durations + 2 };
    const after = await world.waitFor(counts, (now) => now.durations >= expected.durations && now.faultyFailed >= expected.faultyFailed, 10_000, 'the send counters');
    expect(after).toEqual(expected);
    const text = await listenerMetrics();
    expect(text).toMatch(/^mail_listener_send_duration_seconds_bucket\{le="\+Inf",app="listener"\} [1-9]\d*$/m);
    expect(execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' }).trim()).toBe('');

    // The outbox depth, from Postgres on the API: a send put back to queued is counted (updated just now, so
    // the worker's sweep, which takes sends untouched for a minute, leaves it alone), then not.
    const apiMetrics = async () => (await world.api.http.get('/metrics').expect(200)).text;
    expect(metricOf(await apiMetrics(), 'queued')).toBe(0);
    await queryDatabase(world.db.url, `UPDATE mail_sends SET state = 'queued', updated_at = now() WHERE id = $1`, [sent]);
    const api = await apiMetrics();
    expect(metricOf(api, 'queued')).toBe(1);
    expect(metricOf(api, 'sending')).toBe(0);
    expect(execFileSync('promtool', ['check', 'metrics'], { input: api, encoding: 'utf8' }).trim()).toBe('');
    await queryDatabase(world.db.url, `UPDATE mail_sends SET state = 'sent' WHERE id = $1`, [sent]);
    expect(metricOf(await apiMetrics(), 'queued')).toBe(0);
  });
});

function metricOf(text: string, state: string): number {
  const line = new RegExp(`^mail_listener_outbox_sends\\{state="${state}",app="api"\\} (\\d+)$`, 'm').exec(text);
  if (!line) throw new Error(`no mail_listener_outbox_sends{state="${state}"} in the API's /metrics`);
  return Number(line[1]);
}
