/**
 * A Graph send interrupted after the hand-over, and Graph failures that are the mailbox's. The interrupted
 * attempt is set up as a dead worker leaves it: the send row `sending` with `in_flight_since` (written in
 * the test database while `mail-send` is paused, so no worker touches the send before), then the queue
 * resumes and the listener's send worker picks the job up. Exchange Online files every sent message in
 * Sent Items, so the message there (the fake's Sent Items, filed as Exchange would) → `sent`; not there →
 * SEND_OUTCOME_UNKNOWN; Graph is never asked to send it again. Outcomes are counted as events on
 * mail-events (including re-publishes the queue would hide), as test/send-crash.test.ts counts them.
 */
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { GraphWorld, queryDatabase } from '@app/testing';

const SENDER_APP_ID = '55555555-aaaa-4bbb-8ccc-000000000078';
const SENDER_APP_SECRET = 'graph-crash-sender-secret~do-not-log';
const RECIPIENT = 'rita@contoso.com';

describe('Graph send interrupted after the hand-over; Graph refusing the mailbox (fake Graph and Entra ID, real API and send worker, Postgres, Redis)', () => {
  const world = new GraphWorld();
  let redis: Redis;
  let sendQueue: Queue;
  let seq = 0;

  const post = async (mailboxId: string, body: object): Promise<string> =>
    (await world.api.http.post(`/v1/mailboxes/${mailboxId}/outbox`).set(world.api.auth).send(body).expect(202)).body.id as string;
  const sendStatus = async (mailboxId: string, sendId: string) => (await world.api.http.get(`/v1/mailboxes/${mailboxId}/outbox/${sendId}`).set(world.api.auth).expect(200)).body;
  const mailboxStatus = async (mailboxId: string) => (await world.api.http.get(`/v1/mailboxes/${mailboxId}/status`).set(world.api.auth).expect(200)).body;
  const settled = (mailboxId: string, sendId: string) =>
    world.waitFor(() => sendStatus(mailboxId, sendId), (s) => s.state === 'sent' || s.state === 'failed', 60_000, `send ${sendId} to settle`);
  const outcomeEvents = async (sendId: string) => (await world.events.jobs()).filter((job) => (job.name === 'mail.sent' || job.name === 'mail.send_failed') && job.data.send.id === sendId);
  const sentWith = (messageId: string) => world.graph.sentMail.filter((mail) => mail.internetMessageId === messageId);
  const requestsOf = (email: string, pattern: RegExp) => world.graph.requests.filter((r) => r.email === email && pattern.test(r.path));

  /**
   * A send as a worker leaves it that died after recording the hand-over (before Graph's answer was
   * recorded): `sending`, one attempt, in flight since `secondsAgo`. The queue is paused meanwhile, so the
   * worker has not seen the send before; resuming gives it the job.
   */
  async function interruptedSend(mailboxId: string, body: object, secondsAgo: number): Promise<{ id: string; messageId: string }> {
    await sendQueue.pause();
    try {
      const id = await post(mailboxId, body);
      const [row] = await queryDatabase<{ message_id: string }>(
        world.db.url,
        `UPDATE mail_sends SET state = 'sending', attempts = 1, in_flight_since = now() - make_interval(secs => $2) WHERE id = $1 AND state = 'queued' RETURNING message_id`,
        [id, secondsAgo],
      );
      expect(row).toBeDefined();
      return { id, messageId: row!.message_id };
    } catch (error) {
      await sendQueue.resume();
      throw error;
    }
  }

  beforeAll(async () => {
    await world.start({ push: false, env: { SEND_RETRY_BASE_MS: '50', SEND_RETRY_MAX_MS: '200' } });
    redis = new Redis(world.config.redisUrl, { maxRetriesPerRequest: null });
    sendQueue = new Queue('mail-send', { connection: redis, prefix: world.config.queuePrefix });
    sendQueue.on('error', () => undefined);
    await world.createSendingProviders({ clientId: SENDER_APP_ID, clientSecret: SENDER_APP_SECRET, appRoles: ['Mail.Send', 'Mail.ReadWrite', 'Mail.Read'] });
    await world.mailbox(RECIPIENT);
  }, 120_000);

  afterAll(async () => {
    await sendQueue?.resume().catch(() => undefined);
    await sendQueue?.close();
    redis?.disconnect();
    await world.stop();
  });

  it("delegated: the message is in Sent Items → sent ('Confirmed from Sent Items'), one mail.sent, Graph not asked to send it again", async () => {
    const sender = await world.mailbox(`crash${++seq}@fabrikam.com`);
    const send = await interruptedSend(sender.id, { to: [RECIPIENT], subject: 'Sent before the crash', text: 'x' }, 300);
    // What Exchange Online did with the message the dead worker handed over: filed it in Sent Items.
    world.graph.deliver(sender.email, { subject: 'Sent before the crash', from: sender.email, toRecipients: [RECIPIENT], internetMessageId: send.messageId, isRead: true }, 'sentitems');
    await sendQueue.resume();

    const status = await settled(sender.id, send.id);
    expect(status).toMatchObject({ state: 'sent', attempts: 1, lastError: null, sentAt: expect.any(String), response: expect.stringMatching(/^Confirmed from Sent Items: Message-ID .* found/) });
    expect(status.response).toContain(send.messageId);
    // Looked up through /me (the delegated token), once: the hand-over was 5 minutes ago.
    expect(requestsOf(sender.email, /\/mailFolders\/sentitems\/messages$/).map((r) => [r.method, r.path, r.status, r.query.$filter, r.query.$select])).toEqual([
      ['GET', '/v1.0/me/mailFolders/sentitems/messages', 200, `internetMessageId eq '${send.messageId}'`, 'id,internetMessageId'],
    ]);
    expect(requestsOf(sender.email, /\/sendMail$|\/send$|^\/v1\.0\/(me|users\/[^/]+)\/messages$/)).toEqual([]);
    expect(sentWith(send.messageId)).toEqual([]);

    await world.waitFor(() => outcomeEvents(send.id), (events) => events.length > 0, 15_000, 'the outcome event');
    await world.watch.settle();
    const events = await outcomeEvents(send.id);
    expect(events.map((job) => job.name)).toEqual(['mail.sent']);
    expect(events[0]!.data.send.response).toContain('Confirmed from Sent Items');
    expect(world.watch.duplicated.filter((id) => id.endsWith(send.id))).toEqual([]);
  });

  it('app-only: not in Sent Items → failed SEND_OUTCOME_UNKNOWN with the reason, one mail.send_failed, nothing sent', async () => {
    const email = `daemon${++seq}@apponly.example`;
    const sender = await world.mailbox(email, {}, { token: false });
    const send = await interruptedSend(sender.id, { to: [RECIPIENT], subject: 'Maybe sent', text: 'y' }, 300);
    await sendQueue.resume();

    const status = await settled(sender.id, send.id);
    expect(status).toMatchObject({ state: 'failed', attempts: 1, sentAt: null, lastError: { code: 'SEND_OUTCOME_UNKNOWN', message: expect.stringContaining(send.messageId) } });
    expect(status.lastError.message).toContain('it is not in Sent Items, where Exchange Online files every message it sends (looked once)');
    expect(requestsOf(email, /\/mailFolders\/sentitems\/messages$/).map((r) => [r.path, r.status])).toEqual([[`/v1.0/users/${encodeURIComponent(email)}/mailFolders/sentitems/messages`, 200]]);
    expect(requestsOf(email, /\/sendMail$|\/send$|^\/v1\.0\/(me|users\/[^/]+)\/messages$/)).toEqual([]);
    expect(sentWith(send.messageId)).toEqual([]);

    await world.waitFor(() => outcomeEvents(send.id), (events) => events.length > 0, 15_000, 'the outcome event');
    await world.watch.settle();
    const events = await outcomeEvents(send.id);
    expect(events.map((job) => job.name)).toEqual(['mail.send_failed']);
    expect(events[0]!.data.reason).toMatchObject({ code: 'SEND_OUTCOME_UNKNOWN' });
    expect(world.watch.duplicated.filter((id) => id.endsWith(send.id))).toEqual([]);
  });

  it('a hand-over moments ago, the copy not yet filed at the first look: looks once more after the settle time, then sent', async () => {
    const sender = await world.mailbox(`recent${++seq}@fabrikam.com`);
    // 15 s before the settle time (30 s) is over: the worker waits out the rest before its second look.
    const send = await interruptedSend(sender.id, { to: [RECIPIENT], subject: 'Filed late', text: 'z' }, 15);
    await sendQueue.resume();
    const looks = () => requestsOf(sender.email, /\/mailFolders\/sentitems\/messages$/);
    await world.waitFor(async () => looks(), (requests) => requests.length >= 1, 30_000, 'the first look in Sent Items');
    // Exchange files the copy only now, after the first look.
    world.graph.deliver(sender.email, { subject: 'Filed late', from: sender.email, toRecipients: [RECIPIENT], internetMessageId: send.messageId, isRead: true }, 'sentitems');
    const status = await settled(sender.id, send.id);
    expect(status).toMatchObject({ state: 'sent', attempts: 1, response: expect.stringContaining('Confirmed from Sent Items') });
    expect(looks().map((r) => r.status)).toEqual([200, 200]);
    expect(requestsOf(sender.email, /\/sendMail$|\/send$|^\/v1\.0\/(me|users\/[^/]+)\/messages$/)).toEqual([]);
    await world.waitFor(() => outcomeEvents(send.id), (events) => events.length > 0, 15_000, 'the outcome event');
    await world.watch.settle();
    expect((await outcomeEvents(send.id)).map((job) => job.name)).toEqual(['mail.sent']);
  });

  it('403 (Mail.Send missing): failed GRAPH_ACCESS_DENIED, the mailbox status shows it with "grant Mail.Send" until a send goes through', async () => {
    const sender = await world.mailbox(`denied${++seq}@fabrikam.com`);
    expect((await mailboxStatus(sender.id)).sending).toEqual({ lastError: null });
    world.graph.failNext(1, { status: 403, code: 'ErrorAccessDenied', message: 'Access is denied. Check credentials and try again.', email: sender.email, path: /\/sendMail$/ });
    const id = await post(sender.id, { to: [RECIPIENT], subject: 'Denied', text: 'x' });
    const status = await settled(sender.id, id);
    expect(status).toMatchObject({ state: 'failed', attempts: 1, lastError: { code: 'GRAPH_ACCESS_DENIED', message: expect.stringMatching(/403 ErrorAccessDenied.*grant Mail\.Send/) } });

    const shown = await mailboxStatus(sender.id);
    expect(shown.sending.lastError).toEqual({ code: 'GRAPH_ACCESS_DENIED', message: status.lastError.message, at: expect.any(String) });
    expect(shown.recommendedAction).toMatch(/^Sending fails: .*grant Mail\.Send/);
    // Not the connection's state (the listener's): Graph may let it read while it refuses to send.
    expect(shown.connection.state).not.toBe('auth_error');

    const again = await post(sender.id, { to: [RECIPIENT], subject: 'Granted', text: 'x' });
    expect((await settled(sender.id, again)).state).toBe('sent');
    const cleared = await mailboxStatus(sender.id);
    expect(cleared.sending).toEqual({ lastError: null });
    expect(cleared.recommendedAction ?? '').not.toMatch(/Sending fails/);
  });
});
