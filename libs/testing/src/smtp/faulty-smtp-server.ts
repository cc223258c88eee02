import { SMTPServer, SMTPServerDataStream } from 'smtp-server';
import { freePort } from '../free-port';

/** A reply code with its text, e.g. { code: 451, text: '4.3.0 Try again later' }. */
export interface SmtpReply {
  code: number;
  text: string;
}

/** What the server does with one message's DATA. */
export type DataFault =
  /** 250: accepted. */
  | 'accept'
  /** This reply instead of 250. */
  | SmtpReply
  /** Reads the whole message, then closes the connection without any reply. */
  | 'drop'
  /** Reads the whole message and holds the final reply (until the client goes away): the hand-over a crash cuts. */
  | 'stall';

export interface ReceivedSmtpMessage {
  from: string;
  to: string[];
  raw: Buffer;
  /** Whether the client was told 250 (a dropped or refused message is recorded too). */
  accepted: boolean;
}

/**
 * A small SMTP server (the `smtp-server` package) that answers DATA as the test scripts it: one fault per
 * message in order, then `accept` for every later one; `scriptLogins` does the same for logins. Logins:
 * any user with password `password` (or `refuseLogin` for all), or XOAUTH2 with any token starting
 * `token-`; plain text (no STARTTLS). For the faults a real MTA cannot be asked to make: 451 then
 * accepted, 550, a connection closed after DATA, 454 to AUTH.
 */
export class FaultySmtpServer {
  readonly host = '127.0.0.1';
  readonly messages: ReceivedSmtpMessage[] = [];
  connections = 0;
  /** Messages whose final reply is being held (`stall`). */
  stalled = 0;
  /** Accepted logins, in order (XOAUTH2: any access token starting with `token-` is accepted). */
  readonly logins: { username: string; method: string; accessToken?: string }[] = [];
  private faults: DataFault[] = [];
  private loginFaults: SmtpReply[] = [];

  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
  ) {}

  static async start(options: { password?: string } = {}): Promise<FaultySmtpServer> {
    const password = options.password ?? 'password';
    let instance: FaultySmtpServer | undefined;
    const server = new SMTPServer({
      authMethods: ['PLAIN', 'LOGIN', 'XOAUTH2'],
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      logger: false,
      onConnect: (_session, done) => {
        instance!.connections += 1;
        done();
      },
      onAuth: (auth, _session, done) => {
        const fault = instance!.loginFaults.shift();
        if (fault) return done(Object.assign(new Error(fault.text), { responseCode: fault.code }));
        const ok = auth.method === 'XOAUTH2' ? (auth.accessToken ?? '').startsWith('token-') : auth.password === password;
        if (ok) instance!.logins.push({ username: auth.username ?? '', method: auth.method, ...(auth.method === 'XOAUTH2' ? { accessToken: auth.accessToken } : {}) });
        return ok ? done(null, { user: auth.username }) : done(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
      },
      onData: (stream: SMTPServerDataStream, session, done) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const fault = instance!.faults.shift() ?? 'accept';
          const message = { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks), accepted: fault === 'accept' };
          instance!.messages.push(message);
          if (fault === 'accept') return done();
          if (fault === 'stall') {
            instance!.stalled += 1;
            return;
          }
          if (fault === 'drop') {
            // No reply at all: the connection just goes away after the message was read.
            for (const connection of (server as unknown as { connections: Set<{ _socket: { destroy(): void }; id: string }> }).connections) {
              if (connection.id === session.id) connection._socket.destroy();
            }
            return;
          }
          done(Object.assign(new Error(fault.text), { responseCode: fault.code }));
        });
      },
    });
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, '127.0.0.1', () => {
            server.off('error', reject);
            resolve();
          });
        });
        instance = new FaultySmtpServer(server, port);
        server.on('error', () => undefined);
        return instance;
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
  }

  /** Connections open now (a pooled client keeps its sessions open between messages). */
  get openConnections(): number {
    return (this.server as unknown as { connections: Set<unknown> }).connections.size;
  }

  /** Closes every open connection without a word, as a server does to idle sessions (or when it restarts). */
  dropConnections(): void {
    for (const connection of (this.server as unknown as { connections: Set<{ _socket: { destroy(): void } }> }).connections) connection._socket.destroy();
  }

  /** The next messages' fates, in order (then `accept`). */
  script(...faults: DataFault[]): void {
    this.faults = [...faults];
  }

  /** The next logins' replies, in order, whatever the credentials (e.g. 454 4.7.0 Temporary authentication failure); then the usual check. */
  scriptLogins(...faults: SmtpReply[]): void {
    this.loginFaults = [...faults];
  }

  /** Waits until `count` messages were received (accepted or not). */
  async waitForMessages(count: number, timeoutMs = 15_000): Promise<ReceivedSmtpMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count) {
      if (Date.now() > deadline) throw new Error(`${this.messages.length} of ${count} messages after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.messages;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
