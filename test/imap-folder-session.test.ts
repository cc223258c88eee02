import { ReceivedMessage } from '@app/events';
import { FolderCursor, FolderSyncSink, ImapFolderSession } from '@app/imap';
import { OutboundPolicy } from '@app/outbound';
import { buildMessage, DovecotServer, isImapSessionProcess, TcpProxy } from '@app/testing';

/**
 * The folder session's sync loop against a real Dovecot, with the wire in between held and rewritten
 * (TcpProxy) to place an EXISTS exactly where a race puts it.
 */

/** The sync runtime's side, in memory: a cursor, and a signal per delivered UID. */
class RecordingSink implements FolderSyncSink {
  readonly delivered: number[] = [];
  /** Microtask turns `deliver` takes before it resolves (it is the last await of the sync loop's pass). */
  turns = 0;
  private cursorAt: FolderCursor = { uidValidity: null, lastUid: null };
  private readonly waiters = new Map<number, () => void>();

  async cursor(): Promise<FolderCursor> {
    return this.cursorAt;
  }

  async baseline(uidValidity: number, lastUid: number): Promise<void> {
    this.cursorAt = { uidValidity, lastUid };
  }

  async deliver(messages: ReceivedMessage[], uidValidity: number): Promise<void> {
    for (const message of messages) {
      this.delivered.push(message.uid!);
      this.waiters.get(message.uid!)?.();
    }
    this.cursorAt = { uidValidity, lastUid: messages[messages.length - 1].uid! };
    for (let turn = 0; turn < this.turns; turn++) await null;
  }

  backfillSince(): Date | null {
    return null;
  }

  /** Resolves when the UID is delivered; rejects after `timeoutMs`. */
  deliveredUid(uid: number, timeoutMs: number): Promise<void> {
    if (this.delivered.includes(uid)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`UID ${uid} was not delivered within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.set(uid, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** Turns the delivery may take: the EXISTS lands after the loop's last check at 10 with imapflow 2.1.2; more in case that moves. */
const TURNS = 24;

describe('ImapFolderSession: an EXISTS that lands in the sync loop\'s tail', () => {
  const email = 'tail@contoso.com';
  let dovecot: DovecotServer;
  let proxy: TcpProxy;
  let session: ImapFolderSession;
  const sink = new RecordingSink();

  beforeAll(async () => {
    dovecot = await DovecotServer.start({ users: [{ username: email, password: 'pw' }] });
    proxy = await TcpProxy.start(dovecot.port);
    session = new ImapFolderSession({
      endpoint: { host: '127.0.0.1', port: proxy.port, secure: false, verifyCertificate: false },
      outbound: OutboundPolicy.allowAll(),
      credential: { kind: 'password', login: email, password: 'pw' },
      folder: 'INBOX',
      sink,
    });
    await session.open();
  });
  afterAll(async () => {
    await session?.close();
    await proxy?.stop();
    await dovecot?.destroy();
  });

  /**
   * imapflow emits `exists` from its own promise chain. A message stored while the loop's FETCH runs is
   * announced by Dovecot at the command's end (`* n EXISTS` just before the tagged OK); moved behind the OK
   * in the same packet (RFC 3501 lets a server send untagged data at any time), imapflow handles it while
   * the loop finishes its last pass, interleaved with the loop's own turns. Which turn it lands on depends
   * on how many turns the delivery takes, so every count from 0 to TURNS (24) is tried: in some it lands after the
   * loop's last look at `syncAgain` and before the sync ends (167ff0a). Nothing announces it again (Dovecot
   * has told this session): only the session's own re-check fetches it.
   */
  it('is fetched whichever turn of the loop\'s end it lands on', async () => {
    let reordered = 0;
    for (let turns = 0; turns <= TURNS; turns++) {
      sink.turns = turns;
      let next: { uid: number } | undefined;
      // The loop's FETCH reaches Dovecot once the next message is stored...
      proxy.filter('toServer', async (chunk) => {
        if (!/ UID FETCH /.test(chunk.toString('latin1'))) return chunk;
        proxy.filter('toServer', undefined);
        next = await dovecot.deliver(email, buildMessage({ subject: `lands in the tail (${turns} turns)` }));
        // ...and its answer's EXISTS comes behind the tagged OK instead of before it.
        let response = '';
        proxy.filter('toClient', (answer) => {
          response += answer.toString('latin1');
          const done = /^\S+ OK Fetch completed[^\r]*\r\n/m.exec(response);
          if (!done) return Buffer.alloc(0);
          proxy.filter('toClient', undefined);
          const before = response.slice(0, done.index);
          const updates = before.match(/^\* \d+ (?:EXISTS|RECENT)\r\n/gm) ?? [];
          if (updates.some((line) => line.endsWith(' EXISTS\r\n'))) reordered++;
          const moved = before.replace(/^\* \d+ (?:EXISTS|RECENT)\r\n/gm, '') + done[0] + updates.join('') + response.slice(done.index + done[0].length);
          return Buffer.from(moved, 'latin1');
        });
        return chunk;
      });
      const trigger = await dovecot.deliver(email, buildMessage({ subject: `wakes the loop (${turns} turns)` }));
      await sink.deliveredUid(trigger.uid, 10_000);
      await sink.deliveredUid(trigger.uid + 1, 5_000).catch((error: Error) => {
        throw new Error(`${error.message} (the delivery took ${turns} turns; held-back message ${next?.uid})`);
      });
    }
    expect(reordered).toBe(TURNS + 1);
    expect(sink.delivered).toEqual(Array.from({ length: 2 * (TURNS + 1) }, (_, i) => i + 1));
  }, 120_000);
});

/**
 * What a session sends, on the wire through a relay. Opening: every command before IDLE is a round trip
 * (and client CPU, at every connect, takeover and reconnect); imapflow would LIST and LSUB a folder before
 * EXAMINE, the session does without (examineFolder), and counting the commands shows an imapflow that
 * stops honouring that. Closing: a hand-over drops the old owner's session without LOGOUT (the next owner
 * listens already, and Dovecot would have to wake a hibernated session, an imap process as for a login,
 * to answer one); any other close logs out as a client should.
 */
describe('ImapFolderSession on the wire: the commands of opening and closing', () => {
  const email = 'wire@contoso.com';
  let dovecot: DovecotServer;
  let proxy: TcpProxy;

  beforeAll(async () => {
    dovecot = await DovecotServer.start({ users: [{ username: email, password: 'pw' }] });
    proxy = await TcpProxy.start(dovecot.port);
  });
  afterAll(async () => {
    await proxy?.stop();
    await dovecot?.destroy();
  });

  const session = (folder = 'INBOX') =>
    new ImapFolderSession({
      endpoint: { host: '127.0.0.1', port: proxy.port, secure: false, verifyCertificate: false },
      outbound: OutboundPolicy.allowAll(),
      credential: { kind: 'password', login: email, password: 'pw' },
      folder,
      sink: new RecordingSink(),
    });

  /** What the client sent while `work` ran. */
  async function sentDuring(work: () => Promise<unknown>): Promise<string> {
    let sent = '';
    proxy.filter('toServer', async (chunk) => {
      sent += chunk.toString('latin1');
      return chunk;
    });
    try {
      await work();
    } finally {
      proxy.filter('toServer', undefined);
    }
    return sent;
  }

  /** The verbs of the tagged commands in what was sent. */
  const commands = (sent: string) => sent.split('\r\n').flatMap((line) => /^\S+ ([A-Z]+)/.exec(line)?.[1] ?? []);

  it('opening logs in, learns the namespace and EXAMINEs: no LIST or LSUB first', async () => {
    const opening = session();
    try {
      expect(commands(await sentDuring(() => opening.open()))).toEqual(['ID', 'AUTHENTICATE', 'ID', 'NAMESPACE', 'EXAMINE']);
    } finally {
      await opening.close();
    }
  });

  it('a folder that does not exist still fails as missing (imapflow LISTs it after the NO)', async () => {
    const missing = session('Nowhere');
    let failure: unknown;
    const sent = await sentDuring(() => missing.open().catch((error: { failure?: unknown }) => (failure = error.failure)));
    expect(commands(sent)).toEqual(['ID', 'AUTHENTICATE', 'ID', 'NAMESPACE', 'EXAMINE', 'LIST']);
    expect(failure).toMatchObject({ kind: 'protocol', message: expect.stringMatching(/Nowhere|doesn't exist/i) });
    await missing.close();
  });

  /** Opens a listening session, closes it with `drop`, and returns what the client sent after it was listening. */
  async function sentOnClose(drop: boolean): Promise<string> {
    const listening = session();
    await listening.open();
    return sentDuring(() => listening.close({ drop }));
  }

  it('drops a handed-over session without a LOGOUT', async () => {
    expect(await sentOnClose(true)).not.toMatch(/LOGOUT/);
  });

  it('logs an ordinary close out (the same check sees a LOGOUT where one is sent)', async () => {
    expect(await sentOnClose(false)).toMatch(/LOGOUT/);
  });
});

/**
 * Why a hand-over's drop must not say DONE (imapflow's close() breaks an IDLE with one): Dovecot hands
 * an idle session to imap-hibernate, which can close it but not answer it. A DONE makes it start an
 * imap process and import the session back into it, as costly as a login; a hand-over of 1,000
 * mailboxes made 1,000 of them, and on a server busy with the new owner's logins they waited 30 s for a
 * process and ended in "Failed to unhibernate client" (bench:failover, join and drain). A connection
 * that just closes ends at imap-hibernate. Dovecot's log says which process ended each session.
 */
describe('ImapFolderSession against a hibernating Dovecot: a hand-over does not wake the old session', () => {
  const dropped = 'dropped@contoso.com';
  const loggedOut = 'logged-out@contoso.com';
  let dovecot: DovecotServer;

  beforeAll(async () => {
    dovecot = await DovecotServer.start({ hibernate: true, users: [dropped, loggedOut].map((username) => ({ username, password: 'pw' })) });
  });
  afterAll(async () => {
    await dovecot?.destroy();
  });

  const session = (login: string) =>
    new ImapFolderSession({
      endpoint: { host: '127.0.0.1', port: dovecot.port, secure: false, verifyCertificate: false },
      outbound: OutboundPolicy.allowAll(),
      credential: { kind: 'password', login, password: 'pw' },
      folder: 'INBOX',
      sink: new RecordingSink(),
    });

  /** The line Dovecot logs when the user's session ends (which process ended it, and why). */
  async function disconnectOf(login: string, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = await dovecot.sessionEndOf(login);
      if (line) return line;
      if (Date.now() > deadline) throw new Error(`Dovecot logged no disconnect of ${login} in ${timeoutMs} ms:\n${dovecot.logTail(20)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('a dropped session ends at imap-hibernate; a logged-out one is woken first (the control)', async () => {
    const sessions = [session(dropped), session(loggedOut)];
    await Promise.all(sessions.map((s) => s.open()));
    // imap_hibernate_timeout = 5s: once no imap process is left, both sessions are at imap-hibernate.
    const deadline = Date.now() + 20_000;
    while (dovecot.processes().some(isImapSessionProcess)) {
      if (Date.now() > deadline) throw new Error(`sessions not hibernated: ${dovecot.processes().map((p) => p.title).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await sessions[0].close({ drop: true });
    await sessions[1].close();
    expect(await disconnectOf(dropped)).toMatch(/imap-hibernate\(dropped@contoso\.com\).*Disconnected: Connection closed/);
    expect(await disconnectOf(loggedOut)).toMatch(/\bimap\(logged-out@contoso\.com\).*Disconnected: Logged out/);
  }, 60_000);
});
