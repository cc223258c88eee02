import { ImapFlow } from 'imapflow';
import { performance } from 'node:perf_hooks';
import { buildMessage, ListenerWorld, MailEventsWatch, TcpProxy } from '@app/testing';

/**
 * Dovecot with `imap_hibernate_timeout = 5s` does not announce a message stored in the last ~500 ms
 * before a woken IDLE session hibernates again: it is stored, but no EXISTS is sent until the client
 * sends a command or more mail arrives (Dovecot's 500 ms notify delay is dropped when it hibernates).
 * Held back, not lost: the next message, any command, or the listener's safety sweep (off here) shows it.
 * A listener-side NOOP after each woken fetch was tried and dropped: the NOOP's own wake ends in the same
 * window, so for mail arriving at random it only moves the window (see README, "IMAP listening").
 *
 * Timing is taken on the wire (a TCP relay between the listener and Dovecot): Dovecot's hibernation
 * timer starts when the client enters IDLE again after fetching, so the second message is appended
 * 4.7 s after that IDLE, inside the window (4.5–4.97 s), from a session already logged in.
 */
const HIBERNATE_MS = 5_000;
const APPEND_AFTER_IDLE_MS = 4_700;
const PUBLISH_WITHIN_MS = 12_000;

interface Wire {
  /** When the client sent each IDLE and the server each EXISTS (performance.now()). */
  idles: number[];
  exists: { count: number; at: number }[];
  noops: number[];
  /** DONE ends IDLE: what wakes a hibernated session before the NOOP itself is sent. */
  dones: number[];
}

async function hibernatingWorld(): Promise<{ world: ListenerWorld; proxy: TcpProxy; watch: MailEventsWatch; wire: Wire }> {
  const world = new ListenerWorld();
  await world.start({ dovecot: { hibernate: true }, env: { IMAP_SAFETY_SWEEP_MINUTES: '0' } });
  const proxy = await TcpProxy.start(world.dovecot.port);
  await world.api.http
    .post('/v1/providers')
    .set(world.api.auth)
    .send({ name: 'Dovecot via relay', type: 'imap', host: '127.0.0.1', port: proxy.port, secure: false, domains: ['hibernate.test'] })
    .expect(201);
  const wire: Wire = { idles: [], exists: [], noops: [], dones: [] };
  proxy.filter('toServer', (chunk) => {
    const text = chunk.toString('latin1');
    if (/ IDLE\r\n/.test(text)) wire.idles.push(performance.now());
    if (/ NOOP\r\n/.test(text)) wire.noops.push(performance.now());
    if (/^DONE\r$/m.test(text)) wire.dones.push(performance.now());
    return chunk;
  });
  proxy.filter('toClient', (chunk) => {
    for (const match of chunk.toString('latin1').matchAll(/^\* (\d+) EXISTS\r$/gm)) wire.exists.push({ count: Number(match[1]), at: performance.now() });
    return chunk;
  });
  const watch = await MailEventsWatch.open(world.config.redisUrl, world.config.queuePrefix);
  return { world, proxy, watch, wire };
}

async function until<T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * A mailbox listened to through the relay, its session hibernated; a message wakes it and is published;
 * a second one is appended 4.7 s after the session IDLEs again after its fetch. Returns what the second one needs.
 */
async function appendLate(setup: { world: ListenerWorld; watch: MailEventsWatch; wire: Wire }, email: string) {
  const { world, watch, wire } = setup;
  const mailbox = await world.mailbox(email);
  await world.waitForState(mailbox.id, 'connected');
  // The listener's session hands its client to imap-hibernate 5 s after it IDLEs.
  const awake = () => world.dovecot.processes().some((p) => /\/imap \[/.test(p.title) && p.title.includes(email));
  await until(() => (awake() ? undefined : true), 15_000, 'the listener session to hibernate');

  // Logged in before the clock starts: an APPEND on it takes milliseconds, a fresh login far longer.
  const appender = new ImapFlow({ host: world.dovecot.host, port: world.dovecot.port, secure: false, auth: { user: email, pass: `pw-${email}` }, logger: false, disableAutoIdle: true });
  appender.on('error', () => undefined);
  await appender.connect();
  try {
    const first = await appender.append('INBOX', buildMessage({ subject: 'wakes the session' }));
    const firstUid = (first as { uid: number }).uid;
    await watch.waitForAdded((job) => job.name === 'mail.received' && job.jobId.endsWith(`.${firstUid}`), 10_000, 'the first message');
    const existsAt = (await until(() => wire.exists.find((e) => e.count === 1), 1_000, 'the first EXISTS')).at;
    const idleAt = await until(() => wire.idles.find((at) => at > existsAt), 5_000, 'IDLE again after the fetch');

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, idleAt + APPEND_AFTER_IDLE_MS - performance.now())));
    const appendStartedAt = performance.now();
    const second = await appender.append('INBOX', buildMessage({ subject: 'appended just before the session hibernates again' }));
    const appendedAt = performance.now();
    const secondUid = (second as { uid: number }).uid;
    // Inside Dovecot's window (relative to the IDLE that started its hibernation timer).
    expect(appendStartedAt - idleAt).toBeGreaterThanOrEqual(4_500);
    expect(appendedAt - idleAt).toBeLessThan(HIBERNATE_MS - 30);
    return { mailbox, secondUid, idleAt, appendedAt };
  } finally {
    await appender.logout().catch(() => appender.close());
  }
}

describe('IMAP under Dovecot hibernation: mail stored just before a woken session hibernates again (held back by Dovecot)', () => {
  describe('what Dovecot does', () => {
    let setup: Awaited<ReturnType<typeof hibernatingWorld>>;
    beforeAll(async () => {
      setup = await hibernatingWorld();
    }, 60_000);
    afterAll(async () => {
      await setup?.watch.close();
      await setup?.world.stop();
      await setup?.proxy.stop();
    });

    it('stores the message but announces no EXISTS, so nothing is published until the client sends a command', async () => {
      const { world, watch, wire } = setup;
      const email = 'held-back@hibernate.test';
      const { mailbox, secondUid, appendedAt } = await appendLate(setup, email);
      const isSecond = (job: { name: string; jobId: string }) => job.name === 'mail.received' && job.jobId.endsWith(`.${secondUid}`);
      await expect(watch.waitForAdded(isSecond, PUBLISH_WITHIN_MS, 'the message appended just before hibernation')).rejects.toThrow(/timed out/);
      expect(wire.exists.some((e) => e.count === 2)).toBe(false);
      expect(wire.noops).toEqual([]);
      expect(wire.dones.filter((at) => at > appendedAt)).toEqual([]);
      expect((await world.dovecot.status(email)).messages).toBe(2);

      // Held back, not lost: any command shows it (here the reconnect and catch-up of a resync).
      await world.api.http.post(`/v1/mailboxes/${mailbox.id}/resync`).set(world.api.auth).expect((res) => expect(res.status).toBeLessThan(300));
      await watch.waitForAdded(isSecond, 10_000, 'the message after a resync');
      await watch.settle();
      expect(watch.duplicated).toEqual([]);
    }, 60_000);
  });
});
