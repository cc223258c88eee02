import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import XOAuth2 from 'nodemailer/lib/xoauth2';
import { OutboundPolicy } from '@app/outbound';
import { SmtpSettings } from '@app/providers';
import { useFastDataStuffing } from './data-stuffing';

useFastDataStuffing();

/** How to log in: the password, or access tokens (current, and a forced refresh for the one retry). */
export type SmtpLogin =
  | { kind: 'password'; user: string; password: string }
  | { kind: 'oauth2'; user: string; accessToken: (renew: boolean) => Promise<string> };

export interface SmtpSessionOptions {
  settings: SmtpSettings;
  verifyCertificate: boolean;
  timeoutMs: number;
  outbound: OutboundPolicy;
  /** Extra trust anchors (tests, private CAs). */
  caPem?: string;
  /** EHLO name. */
  clientName?: string;
}

export interface SmtpDelivery {
  /** The server's final reply to DATA. */
  response: string;
  accepted: string[];
  rejected: string[];
}

/**
 * Where the socket goes. In production the policy judges the address: an IP literal before connecting, a
 * name resolved here through the policy's lookup and connected to by that very address (so a DNS answer
 * that changes in between cannot get around it), with the name kept for TLS (SNI and certificate check).
 */
async function destination(host: string, outbound: OutboundPolicy): Promise<{ host: string; servername?: string }> {
  if (isIP(host)) {
    outbound.checkHost(host);
    return { host };
  }
  if (!outbound.enforced) return { host };
  const address = await new Promise<string>((resolve, reject) =>
    outbound.lookup(host, { all: false }, (error, resolved) => (error ? reject(error) : resolve(resolved as string))),
  );
  return { host: address, servername: host };
}

/**
 * One logged-in SMTP session (nodemailer's SMTPConnection): opened with `open` (connect with TLS on
 * connect, STARTTLS required, or plain text for `security: none`; log in), then any number of `deliver`s,
 * each after a `reset` when the session is reused. SMTPConnection reports connection-level failures (TLS,
 * resets, timeouts, the server closing) as 'error'/'end' events, not through the pending command's
 * callback: every step ends on the first of them, and the session is then `broken` for good.
 */
export class SmtpSession {
  private failed: Error | undefined;
  private closed = false;
  private readonly waiting = new Set<(error: Error) => void>();
  private readonly brokenListeners = new Set<() => void>();
  /** Messages handed over on this session (the pool retires a session after a number of them). */
  delivered = 0;
  /** The last `deliver` failed because the connection went before any of the message was written. */
  lostBeforeContent = false;
  /** When the server last answered a completed step (login, RSET, the reply to DATA): performance.now(). */
  private answeredAt = 0;

  private constructor(
    private readonly connection: SMTPConnection,
    /** Which credential logged it in: the token or password fingerprint the pool compares (see SmtpSessionPool). */
    public credentialTag: string,
  ) {
    connection.on('error', (error: Error) => this.break(error));
    connection.on('end', () => this.break(Object.assign(new Error('The server closed the connection'), { code: 'ECONNECTION' })));
  }

  /**
   * Connects and logs in. XOAUTH2 takes its token from `login.accessToken`; when the server answers the
   * token with an error challenge (334, as Exchange Online, Gmail and Dovecot do), nodemailer asks once more
   * with `renew` and retries the login once. `firstToken` is a token already fetched for this attempt (the
   * pool's fingerprint), used instead of asking again.
   */
  static async open(options: SmtpSessionOptions, login: SmtpLogin, credentialTag: (token: string) => string, firstToken?: string): Promise<SmtpSession> {
    const { settings } = options;
    const target = await destination(settings.host, options.outbound);
    // SNI and the certificate check go by name; an IP address is not a server name (RFC 6066).
    const servername = target.servername ?? (isIP(settings.host) ? undefined : settings.host);
    const connection = new SMTPConnection({
      host: target.host,
      port: settings.port,
      secure: settings.security === 'tls',
      requireTLS: settings.security === 'starttls',
      ignoreTLS: settings.security === 'none',
      servername,
      name: options.clientName,
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
      tls: { rejectUnauthorized: options.verifyCertificate, minVersion: 'TLSv1.2', servername, ...(options.caPem ? { ca: options.caPem } : {}) },
      logger: false,
    });
    const session = new SmtpSession(connection, login.kind === 'password' ? credentialTag(login.password) : credentialTag(firstToken ?? ''));
    try {
      await session.step<void>((done) => connection.connect(() => done(null)));
      if (login.kind === 'password') {
        await session.step<boolean>((done) => connection.login({ user: login.user, credentials: { user: login.user, pass: login.password } }, done));
      } else {
        let unused = firstToken;
        const oauth2 = new XOAuth2({
          user: login.user,
          provisionCallback: (_user, renew, provided) => {
            const given = !renew && unused !== undefined ? Promise.resolve(unused) : login.accessToken(renew);
            unused = undefined;
            given.then(
              (token) => {
                session.credentialTag = credentialTag(token);
                provided(null, token);
              },
              (error: Error) => provided(error),
            );
          },
        });
        await session.step<boolean>((done) => connection.login({ type: 'OAuth2', user: login.user, method: 'XOAUTH2', oauth2 }, done));
      }
      session.answeredAt = performance.now();
      return session;
    } catch (error) {
      session.close();
      throw error;
    }
  }

  /** Whether the connection failed or was closed (by either side): it is never used again. */
  get broken(): boolean {
    return this.failed !== undefined || this.closed;
  }

  /** Called once when the session breaks (the pool drops an idle session the server closed). */
  onBroken(listener: () => void): () => void {
    this.brokenListeners.add(listener);
    return () => this.brokenListeners.delete(listener);
  }

  /** Whether the server answered within the last `ms` (and the session has not broken since). */
  answeredWithin(ms: number): boolean {
    return !this.broken && performance.now() - this.answeredAt < ms;
  }

  /** RSET: a reused session starts a clean transaction, and answers, which shows it is still there. */
  async reset(): Promise<void> {
    await this.step<void>((done) => this.connection.reset((error) => done(error ?? null)));
    this.answeredAt = performance.now();
  }

  /**
   * MAIL FROM, RCPT TO, DATA: the hand-over. A stream that fails midway (its store went away) fails the
   * delivery before the final dot, so the server discards what it got; the caller then closes the session.
   */
  async deliver(envelope: { from: string; to: string[] }, raw: Buffer | Readable): Promise<SmtpDelivery> {
    // nodemailer reads the message only once the server answered DATA with 354: until then nothing of it was sent.
    let contentStarted = false;
    const body = Buffer.isBuffer(raw)
      ? new Readable({
          read() {
            contentStarted = true;
            this.push(raw);
            this.push(null);
          },
        })
      : raw.once('resume', () => (contentStarted = true));
    this.lostBeforeContent = false;
    let info: { accepted: string[]; rejected: string[]; response: string };
    try {
      info = await this.step((done) =>
        this.connection.send(envelope, body, (error, result) => {
          // Cut off inside DATA: the session is unusable (no QUIT either, it would land in the message).
          if ((error as { code?: string } | null)?.code === 'ESTREAM') this.failed ??= error!;
          done(error, result as never);
        }),
      );
    } catch (error) {
      // The connection went before the server asked for the message: no byte of it was sent.
      this.lostBeforeContent = !contentStarted && this.broken;
      throw error;
    }
    this.delivered += 1;
    this.answeredAt = performance.now();
    return { response: info.response, accepted: info.accepted, rejected: info.rejected };
  }

  /** QUIT when the session is healthy (polite), then the socket goes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.failed) this.connection.quit();
    this.connection.close();
  }

  private break(error: Error): void {
    this.failed ??= error;
    for (const reject of this.waiting) reject(error);
    const listeners = [...this.brokenListeners];
    this.brokenListeners.clear();
    for (const listener of listeners) listener();
  }

  private step<T>(run: (done: (error: Error | null | undefined, value?: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.failed) return reject(this.failed);
      if (this.closed) return reject(Object.assign(new Error('The session was closed'), { code: 'ECONNECTION' }));
      this.waiting.add(reject);
      run((error, value) => {
        this.waiting.delete(reject);
        if (error) reject(error);
        else resolve(value as T);
      });
    });
  }
}
