import { OutboundPolicy } from '@app/outbound';
import { FaultySmtpServer } from '@app/testing';
import { smtpAttempt, SmtpAttemptInput } from './smtp-attempt';
import { SmtpSessionPool } from './smtp-session-pool';

/**
 * Connection reuse against a real SMTP server (smtp-server, in process), counted by the server: its
 * connections, its open connections and the messages it received.
 */
describe('SMTP sessions reused per mailbox', () => {
  let server: FaultySmtpServer;
  let pool: SmtpSessionPool;
  const open = new OutboundPolicy({ enforce: false, allowedNetworks: [] });

  const until = async (what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  const attempt = (overrides: Partial<SmtpAttemptInput> & { mailbox?: string; password?: string } = {}) =>
    smtpAttempt({
      settings: { host: server.host, port: server.port, security: 'none' },
      verifyCertificate: false,
      login: { kind: 'password', user: 'ana', password: overrides.password ?? 'password' },
      envelope: { from: 'ana@contoso.com', to: ['ben@contoso.com'] },
      raw: Buffer.from('Subject: hi\r\n\r\nhello\r\n'),
      beforeHandOver: async () => true,
      timeoutMs: 10_000,
      outbound: open,
      reuse: { pool, mailboxId: overrides.mailbox ?? 'm1' },
      ...overrides,
    });

  beforeEach(async () => {
    server = await FaultySmtpServer.start();
    pool = new SmtpSessionPool({ perMailbox: 2, idleMs: 30_000, maxMessages: 100 });
  });

  afterEach(async () => {
    pool.closeAll();
    server.dropConnections();
    await server.stop();
  });

  it('one mailbox sending one message after another uses one connection', async () => {
    for (let i = 0; i < 5; i++) expect((await attempt()).response).toMatch(/^250/);
    expect(server.messages).toHaveLength(5);
    expect(server.connections).toBe(1);
    expect(pool.held('m1')).toBe(1);
  });

  it('at most SEND_CONNECTIONS_PER_MAILBOX sessions per mailbox under load; the other attempts wait and reuse them', async () => {
    await Promise.all(Array.from({ length: 12 }, () => attempt()));
    expect(server.messages.filter((m) => m.accepted)).toHaveLength(12);
    expect(server.connections).toBe(2);
    // A second mailbox has its own sessions.
    await attempt({ mailbox: 'm2' });
    expect(server.connections).toBe(3);
  });

  it('a session the server dropped while idle is replaced before the hand-over: the send succeeds, delivered once, recorded once', async () => {
    await attempt();
    server.dropConnections();
    await until('the server to have closed the session', () => server.openConnections === 0);
    let handOvers = 0;
    await attempt({ beforeHandOver: async () => (handOvers += 1) > 0 });
    expect(handOvers).toBe(1);
    expect(server.messages).toHaveLength(2);
    expect(server.connections).toBe(2);
  });

  it.each([
    ['idle long enough to be reset first: its RSET fails', 0],
    ['used a moment ago, so not reset: its MAIL FROM fails before any of the message was sent', undefined],
  ])('a pooled session dropped as it is taken is replaced, even when the pool missed the close (%s)', async (_case, aliveWithoutResetMs) => {
    await attempt();
    let handOvers = 0;
    // Dropped while the attempt takes it: no time for the pool to see the close first.
    const dropped = attempt({ aliveWithoutResetMs, beforeHandOver: async () => ++handOvers > 0 });
    server.dropConnections();
    await dropped;
    expect(server.messages.filter((m) => m.accepted)).toHaveLength(2);
    expect(server.connections).toBe(2);
    expect(handOvers).toBe(1);
  });

  it('after the hand-over is recorded a failure is the attempt’s: no silent second try on another session', async () => {
    await attempt();
    let handOvers = 0;
    const failing = attempt({
      beforeHandOver: async () => {
        handOvers += 1;
        // The server goes away right after the hand-over was recorded.
        server.dropConnections();
        await until('the server to have closed the session', () => server.openConnections === 0);
        return true;
      },
    });
    await expect(failing).rejects.toMatchObject({ code: expect.stringMatching(/ECONNECTION|ESOCKET|ECONNRESET/) });
    expect(handOvers).toBe(1);
    expect(server.messages).toHaveLength(1);
    expect(server.connections).toBe(1);
    // The broken session was not kept: the next send opens a new one.
    await attempt();
    expect(server.connections).toBe(2);
  });

  it('a connection closed after DATA without a reply fails the attempt and the session is discarded', async () => {
    await attempt();
    server.script('drop');
    await expect(attempt()).rejects.toBeDefined();
    await attempt();
    expect(server.messages.map((m) => m.accepted)).toEqual([true, false, true]);
    expect(server.connections).toBe(2);
  });

  it('a refused hand-over keeps the session (nothing was sent on it)', async () => {
    await expect(attempt({ beforeHandOver: async () => false })).rejects.toThrow(/changed state/);
    await attempt();
    expect(server.connections).toBe(1);
    expect(server.messages).toHaveLength(1);
  });

  it('a changed credential (new password, refreshed token) retires the sessions logged in with the old one', async () => {
    await attempt();
    expect(server.openConnections).toBe(1);
    await expect(attempt({ password: 'changed' })).rejects.toMatchObject({ code: 'EAUTH' });
    await until('the old session to be closed', () => server.openConnections === 0);
    await attempt();
    expect(server.connections).toBe(3);
  });

  it('a session busy while the server settings changed is not kept: the next attempt does not get the old one', async () => {
    let releaseA!: () => void;
    const holdA = new Promise<void>((resolve) => (releaseA = resolve));
    let aLoggedIn!: () => void;
    const aReady = new Promise<void>((resolve) => (aLoggedIn = resolve));
    const a = attempt({
      beforeHandOver: async () => {
        aLoggedIn();
        await holdA;
        return true;
      },
    });
    await aReady;
    // The provider's settings change (here verifyCertificate) while A holds its session.
    await attempt({ verifyCertificate: true });
    releaseA();
    await a;
    expect(server.connections).toBe(2);
    await until("A's session to be closed, not kept", () => server.openConnections === 1);
    await attempt({ verifyCertificate: true });
    expect(server.connections).toBe(2);
  });

  it('XOAUTH2: a session is reused while the token stays, and retired when the token is renewed', async () => {
    let token = 'token-1';
    const asked: boolean[] = [];
    const oauth = () =>
      attempt({
        login: {
          kind: 'oauth2',
          user: 'carla',
          accessToken: async (renew) => {
            asked.push(renew);
            return token;
          },
        },
      });
    await oauth();
    await oauth();
    expect(server.connections).toBe(1);
    token = 'token-2'; // the OAuth library refreshed it
    await oauth();
    expect(server.connections).toBe(2);
    await until('the session of the old token to be closed', () => server.openConnections === 1);
    expect(server.logins.map((l) => l.accessToken)).toEqual(['token-1', 'token-2']);
    expect(asked.every((renew) => !renew)).toBe(true);
  });

  it('idle sessions are closed after SEND_CONNECTION_IDLE_MS', async () => {
    pool = new SmtpSessionPool({ perMailbox: 2, idleMs: 200, maxMessages: 100 });
    await attempt();
    await until('the idle session to be closed', () => server.openConnections === 0 && pool.held('m1') === 0);
    await attempt();
    expect(server.connections).toBe(2);
  });

  it('shutdown closes the idle sessions; a session given back afterwards is closed too', async () => {
    await Promise.all([attempt(), attempt()]);
    expect(server.openConnections).toBe(2);
    pool.closeAll();
    await until('shutdown to close the sessions', () => server.openConnections === 0);
    await attempt();
    await until('the unpooled session to be closed', () => server.openConnections === 0);
  });

  it('0 sessions per mailbox: one connection per attempt, closed after it', async () => {
    pool = new SmtpSessionPool({ perMailbox: 0, idleMs: 30_000, maxMessages: 100 });
    await attempt();
    await attempt();
    expect(server.connections).toBe(2);
    await until('both connections to be closed', () => server.openConnections === 0);
  });

  it('a session is retired after maxMessages', async () => {
    pool = new SmtpSessionPool({ perMailbox: 1, idleMs: 30_000, maxMessages: 2 });
    for (let i = 0; i < 5; i++) await attempt();
    expect(server.connections).toBe(3);
  });
});
