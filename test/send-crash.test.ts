/**
 * A real listener process (hosting the send worker) killed with SIGKILL while the SMTP server holds the
 * final reply to DATA: the message may or may not be delivered, and the run after the restart must not
 * send it again. Where the server files its own Sent copy (appendToSent off: Exchange Online, Gmail; here
 * a Dovecot mailbox where the test files the copy as such a server would), the Sent folder settles it:
 * `sent`. Where our own APPEND would make the copy, its absence proves nothing: SEND_OUTCOME_UNKNOWN.
 * Outcomes are counted as events on mail-events, not as jobs.
 */
import { appProcessEnv, AppProcess, buildMessage, ENTRY_POINTS, FaultySmtpServer, freePort, ListenerWorld, startAppProcess, waitForHttpOk } from '@app/testing';
import { queryDatabase } from '../libs/testing/src/test-database';

const PASSWORD = 'crash-secret';
const OWN_COPY = 'own@owncopy.example';
const EXCHANGE = 'exchange@serverkeeps.example';
const EXCHANGE_NOT_FILED = 'notfiled@serverkeeps.example';

describe('send worker killed mid-send (real listener processes, stalling SMTP server, Dovecot)', () => {
  const world = new ListenerWorld();
  let faulty: FaultySmtpServer;
  let listener: AppProcess | undefined;
  const ids: Record<string, string> = {};

  const post = async (mailboxId: string, body: object): Promise<string> =>
    (await world.api.http.post(`/v1/mailboxes/${mailboxId}/outbox`).set(world.api.auth).send(body).expect(202)).body.id as string;
  const sendStatus = async (mailboxId: string, sendId: string) => (await world.api.http.get(`/v1/mailboxes/${mailboxId}/outbox/${sendId}`).set(world.api.auth).expect(200)).body;
  const eventsOf = async (sendId: string) => (await world.events.jobs()).filter((job) => (job.name === 'mail.sent' || job.name === 'mail.send_failed') && job.data.send.id === sendId);
  const stateOf = async (sendId: string) => (await queryDatabase<{ state: string }>(world.db.url, `SELECT state::text FROM mail_sends WHERE id = $1`, [sendId]))[0]?.state;

  beforeAll(async () => {
    await world.start({ listener: false, env: { CLUSTER_HEARTBEAT_MS: '200', CLUSTER_LEASE_TTL_MS: '1000' } });
    faulty = await FaultySmtpServer.start({ password: PASSWORD });
    const provider = async (name: string, domain: string, appendToSent: boolean) => {
      const body = { name, type: 'imap', host: '127.0.0.1', port: world.dovecot.port, secure: false, loadEmails: false, sendEmails: true, appendToSent, smtp: { host: '127.0.0.1', port: faulty.port, security: 'none' }, domains: [domain] };
      const created = (await world.api.http.post('/v1/providers').set(world.api.auth).send(body).expect(201)).body;
      expect(created.appendToSent).toBe(appendToSent);
    };
    await provider('Appends its own copy', 'owncopy.example', true);
    await provider('Server keeps the copy', 'serverkeeps.example', false);
    for (const email of [OWN_COPY, EXCHANGE, EXCHANGE_NOT_FILED]) {
      await world.dovecot.addUser(email, PASSWORD);
      ids[email] = (await world.api.http.post('/v1/mailboxes').set(world.api.auth).send({ email, password: PASSWORD }).expect(201)).body.id;
    }
    await world.dovecot.createFolder(EXCHANGE, 'Sent');
    await world.dovecot.createFolder(EXCHANGE_NOT_FILED, 'Sent');
  }, 60_000);

  afterAll(async () => {
    await listener?.stop('SIGKILL');
    await world.stop();
    await faulty?.stop();
  });

  it('sends nothing twice; ends SEND_OUTCOME_UNKNOWN with one mail.send_failed, or sent with one mail.sent where the Sent folder shows the server took it', async () => {
    const port = await freePort();
    listener = startAppProcess(ENTRY_POINTS.listener, appProcessEnv(world.config, port));
    await waitForHttpOk(`http://127.0.0.1:${port}/health/ready`, listener);

    faulty.script('stall', 'stall', 'stall');
    const unknown = await post(ids[OWN_COPY], { to: ['someone@elsewhere.example'], subject: 'Maybe sent', text: 'x' });
    const confirmed = await post(ids[EXCHANGE], { to: ['someone@elsewhere.example'], subject: 'Sent, says the server', text: 'y' });
    const notFiled = await post(ids[EXCHANGE_NOT_FILED], { to: ['someone@elsewhere.example'], subject: 'Not in Sent', text: 'z' });
    // All handed over: DATA received by the server, the final reply held, each send recorded in flight.
    await world.waitFor(
      async () => ({ stalled: faulty.stalled, states: [await stateOf(unknown), await stateOf(confirmed), await stateOf(notFiled)] }),
      (s) => s.stalled === 3 && s.states.every((x) => x === 'sending'),
      30_000,
      'the three sends held after DATA',
    );
    const connections = faulty.connections;
    listener.child.kill('SIGKILL');
    expect(await listener.exited).toBe(137);

    // What Exchange Online does with a message it accepted: files it in the sender's Sent folder.
    const confirmedMessageId = (await sendStatus(ids[EXCHANGE], confirmed)).messageId as string;
    await world.dovecot.deliver(EXCHANGE, buildMessage({ from: EXCHANGE, to: 'someone@elsewhere.example', subject: 'Sent, says the server', messageId: confirmedMessageId }), { folder: 'Sent' });

    listener = startAppProcess(ENTRY_POINTS.listener, appProcessEnv(world.config, port));
    await waitForHttpOk(`http://127.0.0.1:${port}/health/ready`, listener);
    // BullMQ gives the dead worker's jobs to the new one once their locks lapse (30 s) and it checks for stalled jobs.
    const settled = (mailboxId: string, sendId: string) =>
      world.waitFor(() => sendStatus(mailboxId, sendId), (s) => (s.state === 'sent' && s.sentCopy.state !== 'pending') || s.state === 'failed', 120_000, `send ${sendId} to settle after the restart`);
    const [unknownStatus, confirmedStatus, notFiledStatus] = await Promise.all([settled(ids[OWN_COPY], unknown), settled(ids[EXCHANGE], confirmed), settled(ids[EXCHANGE_NOT_FILED], notFiled)]);

    expect(unknownStatus).toMatchObject({
      state: 'failed',
      attempts: 1,
      sentAt: null,
      lastError: { code: 'SEND_OUTCOME_UNKNOWN', message: expect.stringContaining(unknownStatus.messageId) },
    });
    expect(unknownStatus.lastError.message).toContain('does not keep its own Sent copy (appendToSent is on), so the Sent folder cannot tell');
    expect(confirmedStatus).toMatchObject({
      state: 'sent',
      attempts: 1,
      lastError: null,
      response: expect.stringContaining('Confirmed from the Sent folder'),
      sentCopy: { state: 'not_needed' },
    });
    // A server that files what it accepted, without the message in Sent: it did not take it, but nothing
    // tells whether a later delivery is still on its way, so it is not sent again either.
    expect(notFiledStatus).toMatchObject({ state: 'failed', lastError: { code: 'SEND_OUTCOME_UNKNOWN', message: expect.stringContaining('it is not in the Sent folder Sent') } });
    for (const id of [unknown, confirmed, notFiled]) await world.waitFor(() => eventsOf(id), (e) => e.length > 0, 15_000, `the outcome event of ${id}`);
    // Nothing sent again: DATA once each, no new connection to the SMTP server after the restart.
    expect(faulty.messages.map((m) => m.accepted)).toEqual([false, false, false]);
    expect(faulty.connections).toBe(connections);
    // One outcome event each, and no re-publish under the same id that the queue would hide.
    await world.watch.settle();
    expect((await eventsOf(unknown)).map((job) => job.name)).toEqual(['mail.send_failed']);
    expect((await eventsOf(confirmed)).map((job) => job.name)).toEqual(['mail.sent']);
    expect((await eventsOf(notFiled)).map((job) => job.name)).toEqual(['mail.send_failed']);
    expect((await eventsOf(confirmed))[0].data.send.response).toContain('Confirmed from the Sent folder');
    expect(world.watch.duplicated.filter((id) => [unknown, confirmed, notFiled].some((send) => id.endsWith(send)))).toEqual([]);
    expect(await listener.stop()).toBe(0);
    listener = undefined;
  }, 240_000);
});
