/**
 * The copy in the Sent folder, end to end against real servers: the API queues, the listener's send
 * worker sends through Postfix (Dovecot SASL, LMTP delivery) and APPENDs the sent bytes to the sender's
 * Sent folder in Dovecot; the same listener follows that Sent folder and must not publish our own copy
 * as mail.received, while anything else arriving there still is.
 */
import { ImapFlow } from 'imapflow';
import { buildMessage, freePort, ListenerWorld, PostfixServer } from '@app/testing';
import { queryDatabase } from '../libs/testing/src/test-database';

const ANA = 'ana@sent.example'; // a folder named Sent, and follows it
const CARLA = 'carla@sent.example'; // "Gesendete Elemente" flagged \Sent, and a folder named Sent too
const DAN = 'dan@sent.example'; // no Sent folder
const BEN = 'ben@sent.example'; // the recipient
const EVE = 'eve@retry.example'; // her IMAP server is unreachable at first
const PASSWORD = 'pw-sent';

describe('Sent copy (real Postfix + Dovecot, the listener following the Sent folder)', () => {
  const world = new ListenerWorld();
  let postfix: PostfixServer;
  const ids: Record<string, string> = {};
  let retryProviderId: string;

  const post = async (mailboxId: string, body: object): Promise<string> =>
    (await world.api.http.post(`/v1/mailboxes/${mailboxId}/outbox`).set(world.api.auth).send(body).expect(202)).body.id as string;
  const sendStatus = async (mailboxId: string, sendId: string) => (await world.api.http.get(`/v1/mailboxes/${mailboxId}/outbox/${sendId}`).set(world.api.auth).expect(200)).body;
  /** Sent, and its copy settled (appended, failed or not needed). */
  const copied = (mailboxId: string, sendId: string) =>
    world.waitFor(
      () => sendStatus(mailboxId, sendId),
      (s) => s.state === 'failed' || (s.state === 'sent' && ['appended', 'failed', 'not_needed'].includes(s.sentCopy?.state)),
      30_000,
      `send ${sendId} and its Sent copy to settle`,
    );

  /** The messages of `folder` with this Message-ID: bytes and flags. */
  async function inFolder(username: string, folder: string, messageId: string): Promise<{ uid: number; source: Buffer; flags: string[] }[]> {
    const imap = new ImapFlow({ host: world.dovecot.host, port: world.dovecot.port, secure: false, auth: { user: username, pass: PASSWORD }, logger: false });
    imap.on('error', () => undefined);
    await imap.connect();
    try {
      await imap.mailboxOpen(folder, { readOnly: true });
      const uids = (await imap.search({ header: { 'message-id': messageId } }, { uid: true })) || [];
      const found: { uid: number; source: Buffer; flags: string[] }[] = [];
      for (const uid of uids) {
        const message = await imap.fetchOne(String(uid), { source: true, flags: true }, { uid: true });
        if (message && message.source) found.push({ uid, source: message.source, flags: [...(message.flags ?? [])] });
      }
      return found;
    } finally {
      await imap.logout().catch(() => undefined);
    }
  }
  const rawOf = async (sendId: string): Promise<Buffer> => (await queryDatabase<{ raw: Buffer }>(world.db.url, `SELECT raw FROM mail_send_contents WHERE send_id = $1`, [sendId]))[0].raw;
  const receivedWith = async (mailboxId: string, messageId: string) => (await world.received(mailboxId)).filter((job) => job.data.message.internetMessageId === messageId);

  beforeAll(async () => {
    await world.start({ dovecot: { mtaSockets: true, specialUseFolders: { 'Gesendete Elemente': '\\Sent' } }, listener: true });
    for (const user of [ANA, CARLA, DAN, BEN, EVE]) await world.dovecot.addUser(user, PASSWORD);
    await world.dovecot.createFolder(EVE, 'Sent');
    await world.dovecot.createFolder(ANA, 'Sent');
    await world.dovecot.createFolder(CARLA, 'Sent');
    await world.dovecot.createFolder(CARLA, 'Gesendete Elemente');
    postfix = await PostfixServer.start({ dovecot: world.dovecot, domains: ['sent.example'] });
    const provider = await world.api.http
      .post('/v1/providers')
      .set(world.api.auth)
      .send({ name: 'Sends', type: 'imap', host: '127.0.0.1', port: world.dovecot.port, secure: false, verifyCertificate: false, sendEmails: true, smtp: { host: '127.0.0.1', port: postfix.port, security: 'starttls' }, domains: ['sent.example'] })
      .expect(201);
    expect(provider.body.appendToSent).toBe(true);
    const mailbox = async (email: string, folders?: string[]) =>
      (await world.api.http.post('/v1/mailboxes').set(world.api.auth).send({ email, password: PASSWORD, ...(folders ? { folders } : {}) }).expect(201)).body.id as string;
    ids.ana = await mailbox(ANA, ['INBOX', 'Sent']);
    ids.carla = await mailbox(CARLA);
    ids.dan = await mailbox(DAN);
    retryProviderId = (
      await world.api.http
        .post('/v1/providers')
        .set(world.api.auth)
        .send({ name: 'IMAP away', type: 'imap', host: '127.0.0.1', port: await freePort(), secure: false, loadEmails: false, sendEmails: true, smtp: { host: '127.0.0.1', port: postfix.port, security: 'starttls' }, verifyCertificate: false, domains: ['retry.example'] })
        .expect(201)
    ).body.id;
    ids.eve = await mailbox(EVE);
    await world.waitForState(ids.ana, 'connected', 20_000);
  }, 120_000);

  afterAll(async () => {
    await world.stop();
    await postfix?.destroy();
  });

  it('appends exactly the bytes sent to the folder named Sent, flagged \\Seen; the listener following Sent publishes no mail.received for it, but does for mail someone else puts there', async () => {
    const id = await post(ids.ana, { to: [BEN], subject: 'Copied to Sent', text: 'the copy must be byte for byte', attachments: [{ filename: 'a.bin', contentType: 'application/octet-stream', content: Buffer.from([0, 1, 2, 250]).toString('base64') }] });
    const status = await copied(ids.ana, id);
    expect(status).toMatchObject({ state: 'sent', sentCopy: { state: 'appended', folder: 'Sent', error: null } });
    const [copy, ...more] = await inFolder(ANA, 'Sent', status.messageId);
    expect(more).toHaveLength(0);
    expect(copy.source.equals(await rawOf(id))).toBe(true);
    expect(copy.flags).toContain('\\Seen');
    // The APPENDUID is on the send: the listener skips exactly that UID.
    const [row] = await queryDatabase<{ sent_copy_uid: string }>(world.db.url, `SELECT sent_copy_uid FROM mail_sends WHERE id = $1`, [id]);
    expect(Number(row.sent_copy_uid)).toBe(copy.uid);

    // Someone else files a message in Ana's Sent (another mail client), even one From Ana: published.
    const other = `<other-client-${Date.now()}@sent.example>`;
    const delivered = await world.dovecot.deliver(ANA, buildMessage({ from: ANA, to: BEN, subject: 'Sent by another client', messageId: other }), { folder: 'Sent' });
    expect(delivered.uid).toBeGreaterThan(copy.uid);
    const published = await world.waitFor(() => receivedWith(ids.ana, other), (jobs) => jobs.length === 1, 15_000, "the other client's message published");
    expect(published[0].data.message).toMatchObject({ folder: 'Sent', uid: delivered.uid });
    // UIDs are fetched in order: the copy, below it, was seen first, and not published.
    await world.watch.settle();
    expect(await receivedWith(ids.ana, status.messageId)).toHaveLength(0);
    expect(await world.metric(world.listener!.url, 'mail_listener_own_sent_copies_skipped_total')).toBeGreaterThanOrEqual(1);
    expect(await world.metric(world.listener!.url, 'mail_listener_sent_copies_total', { result: 'appended' })).toBeGreaterThanOrEqual(1);
  });

  it('without a recorded UID (APPEND in flight, or a server without UIDPLUS) our copy is known by its Message-ID', async () => {
    const id = await post(ids.ana, { to: [BEN], subject: 'Known by Message-ID', text: 'x' });
    const status = await copied(ids.ana, id);
    expect(status.sentCopy).toMatchObject({ state: 'appended', folder: 'Sent' });
    // As the row is between "folder chosen" and "APPENDUID recorded", or stays without UIDPLUS.
    await queryDatabase(world.db.url, `UPDATE mail_sends SET sent_copy_state = 'appending', sent_copy_uidvalidity = NULL, sent_copy_uid = NULL WHERE id = $1`, [id]);
    const again = await world.dovecot.deliver(ANA, await rawOf(id), { folder: 'Sent' });
    const marker = `<after-${Date.now()}@sent.example>`;
    const after = await world.dovecot.deliver(ANA, buildMessage({ from: ANA, to: BEN, messageId: marker }), { folder: 'Sent' });
    expect(after.uid).toBeGreaterThan(again.uid);
    await world.waitFor(() => receivedWith(ids.ana, marker), (jobs) => jobs.length === 1, 15_000, 'the marker published');
    await world.watch.settle();
    expect(await receivedWith(ids.ana, status.messageId)).toHaveLength(0);
  });

  it('finds the Sent folder by its \\Sent special use under a localized name, before a folder named Sent', async () => {
    const id = await post(ids.carla, { to: [BEN], subject: 'Gesendet', text: 'hallo' });
    const status = await copied(ids.carla, id);
    expect(status).toMatchObject({ state: 'sent', sentCopy: { state: 'appended', folder: 'Gesendete Elemente' } });
    const [copy] = await inFolder(CARLA, 'Gesendete Elemente', status.messageId);
    expect(copy.source.equals(await rawOf(id))).toBe(true);
    expect(await inFolder(CARLA, 'Sent', status.messageId)).toHaveLength(0);
  });

  it('a copy whose worker died after its APPEND is taken again by the sweep and found in the folder, not appended twice', async () => {
    const id = await post(ids.carla, { to: [BEN], subject: 'Appended, then the worker died', text: 'x' });
    const status = await copied(ids.carla, id);
    const [first] = await inFolder(CARLA, 'Gesendete Elemente', status.messageId);
    // What a worker killed between its APPEND and recording it leaves: held, folder chosen, no UID, hold run out.
    await queryDatabase(world.db.url, `UPDATE mail_sends SET sent_copy_state = 'appending', sent_copy_uid = NULL, sent_copy_uidvalidity = NULL, sent_copy_next_at = now() - interval '1 second' WHERE id = $1`, [id]);
    const rows = () => queryDatabase<{ sent_copy_state: string; sent_copy_attempts: number; sent_copy_uid: string | null }>(world.db.url, `SELECT sent_copy_state::text, sent_copy_attempts, sent_copy_uid FROM mail_sends WHERE id = $1`, [id]);
    // The sweep runs every 30 s.
    const [row] = await world.waitFor(rows, ([r]) => r.sent_copy_state === 'appended', 45_000, 'the sweep to take the copy again');
    expect(row.sent_copy_attempts).toBe(2);
    expect(Number(row.sent_copy_uid)).toBe(first.uid);
    expect(await inFolder(CARLA, 'Gesendete Elemente', status.messageId)).toHaveLength(1);
  }, 60_000);

  it('an IMAP server that cannot be reached: the copy waits for its next try with the reason, the send stays sent; the retry appends it', async () => {
    const id = await post(ids.eve, { to: [BEN], subject: 'Copy later', text: 'x' });
    const status = await world.waitFor(() => sendStatus(ids.eve, id), (s) => s.state === 'sent' && s.sentCopy.error !== null, 30_000, 'the first try of the copy to fail');
    expect(status).toMatchObject({ state: 'sent', lastError: null, sentCopy: { state: 'pending', folder: null, error: expect.stringMatching(/ECONNREFUSED|connect/i) } });
    expect(await world.metric(world.listener!.url, 'mail_listener_sent_copies_total', { result: 'retried' })).toBeGreaterThanOrEqual(1);
    // The server is back; the next try (due in 30 s, brought forward here) is taken by the sweep.
    await world.api.http.patch(`/v1/providers/${retryProviderId}`).set(world.api.auth).send({ port: world.dovecot.port }).expect(200);
    await queryDatabase(world.db.url, `UPDATE mail_sends SET sent_copy_next_at = now() WHERE id = $1`, [id]);
    const after = await world.waitFor(() => sendStatus(ids.eve, id), (s) => ['appended', 'failed'].includes(s.sentCopy.state), 45_000, 'the sweep to retry the copy');
    expect(after.sentCopy).toEqual({ state: 'appended', folder: 'Sent', error: null });
    const [copy] = await inFolder(EVE, 'Sent', status.messageId);
    expect(copy.source.equals(await rawOf(id))).toBe(true);
  }, 90_000);

  it('no Sent folder: the copy fails at once with the reason, and the send stays sent with its one mail.sent', async () => {
    const id = await post(ids.dan, { to: [BEN], subject: 'Nowhere to copy', text: 'x' });
    const status = await copied(ids.dan, id);
    expect(status).toMatchObject({ state: 'sent', lastError: null, sentCopy: { state: 'failed', folder: null, error: expect.stringContaining('no Sent folder') } });
    const sent = await world.waitFor(async () => (await world.events.jobs()).filter((job) => job.name === 'mail.sent' && job.data.send.id === id), (jobs) => jobs.length > 0, 10_000, 'mail.sent');
    expect(sent).toHaveLength(1);
    expect((await world.events.jobs()).filter((job) => job.name === 'mail.send_failed' && job.data.send.id === id)).toHaveLength(0);
  });
});
