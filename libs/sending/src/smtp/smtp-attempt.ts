import { isIP } from 'node:net';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import XOAuth2 from 'nodemailer/lib/xoauth2';
import { OutboundPolicy } from '@app/outbound';
import { SmtpSettings } from '@app/providers';

/** How to log in: the password, or access tokens (current, and a forced refresh for the one retry). */
export type SmtpLogin =
  | { kind: 'password'; user: string; password: string }
  | { kind: 'oauth2'; user: string; accessToken: (renew: boolean) => Promise<string> };

export interface SmtpAttemptInput {
  settings: SmtpSettings;
  verifyCertificate: boolean;
  login: SmtpLogin;
  envelope: { from: string; to: string[] };
  raw: Buffer;
  /** Logged in, about to hand the message over: resolves once that is recorded (a false stops the attempt). */
  beforeHandOver: () => Promise<boolean>;
  timeoutMs: number;
  outbound: OutboundPolicy;
  /** Extra trust anchors (tests, private CAs). */
  caPem?: string;
  /** EHLO name. */
  clientName?: string;
}

export interface SmtpAttemptResult {
  /** The server's final reply to DATA. */
  response: string;
  accepted: string[];
  rejected: string[];
}

/** The hand-over was not recorded (the send changed state meanwhile): nothing was sent. */
export class HandOverRefusedError extends Error {
  constructor() {
    super('The send changed state before the message was handed over; nothing was sent');
    this.name = 'HandOverRefusedError';
  }
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
 * One SMTP attempt with nodemailer's SMTPConnection: connect (TLS on connect, STARTTLS required, or plain
 * text for `security: none`), log in, record the hand-over, MAIL FROM / RCPT TO / DATA, QUIT.
 * XOAUTH2 takes its token from `login.accessToken`; when the server answers the token with an error
 * challenge (334, as Exchange Online, Gmail and Dovecot do), nodemailer asks once more with `renew` and
 * retries the login once.
 */
export async function smtpAttempt(input: SmtpAttemptInput): Promise<SmtpAttemptResult> {
  const { settings } = input;
  const target = await destination(settings.host, input.outbound);
  const connection = new SMTPConnection({
    host: target.host,
    port: settings.port,
    secure: settings.security === 'tls',
    requireTLS: settings.security === 'starttls',
    ignoreTLS: settings.security === 'none',
    // SNI and the certificate check go by name; an IP address is not a server name (RFC 6066).
    servername: target.servername ?? (isIP(settings.host) ? undefined : settings.host),
    name: input.clientName,
    connectionTimeout: input.timeoutMs,
    greetingTimeout: input.timeoutMs,
    socketTimeout: input.timeoutMs,
    tls: { rejectUnauthorized: input.verifyCertificate, minVersion: 'TLSv1.2', servername: target.servername ?? (isIP(settings.host) ? undefined : settings.host), ...(input.caPem ? { ca: input.caPem } : {}) },
    logger: false,
  });
  // SMTPConnection reports connection-level failures (TLS, resets, timeouts) as 'error' events, not through
  // the pending command's callback: every step below also ends on the first of them.
  let failed: Error | undefined;
  const failures = new Set<(error: Error) => void>();
  connection.on('error', (error: Error) => {
    failed ??= error;
    for (const reject of failures) reject(error);
  });
  connection.on('end', () => {
    const closed = Object.assign(new Error('The server closed the connection'), { code: 'ECONNECTION' });
    for (const reject of failures) reject(closed);
  });
  const step = <T>(run: (done: (error: Error | null | undefined, value?: T) => void) => void): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (failed) return reject(failed);
      failures.add(reject);
      run((error, value) => {
        failures.delete(reject);
        if (error) reject(error);
        else resolve(value as T);
      });
    });
  try {
    await step<void>((done) => connection.connect(() => done(null)));
    const login = input.login;
    if (login.kind === 'password') {
      await step<boolean>((done) => connection.login({ user: login.user, credentials: { user: login.user, pass: login.password } }, done));
    } else {
      const oauth2 = new XOAuth2({
        user: login.user,
        provisionCallback: (_user, renew, provided) => {
          login.accessToken(renew).then(
            (token) => provided(null, token),
            (error: Error) => provided(error),
          );
        },
      });
      await step<boolean>((done) => connection.login({ type: 'OAuth2', user: login.user, method: 'XOAUTH2', oauth2 }, done));
    }
    if (!(await input.beforeHandOver())) throw new HandOverRefusedError();
    const info = await step<{ accepted: string[]; rejected: string[]; response: string }>((done) =>
      connection.send(input.envelope, input.raw, (error, result) => done(error, result as never)),
    );
    connection.quit();
    return { response: info.response, accepted: info.accepted, rejected: info.rejected };
  } finally {
    connection.close();
  }
}
