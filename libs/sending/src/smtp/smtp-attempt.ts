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

function callback<T>(run: (done: (error: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value as T))));
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
    servername: target.servername ?? settings.host,
    name: input.clientName,
    connectionTimeout: input.timeoutMs,
    greetingTimeout: input.timeoutMs,
    socketTimeout: input.timeoutMs,
    tls: { rejectUnauthorized: input.verifyCertificate, minVersion: 'TLSv1.2', servername: target.servername ?? (isIP(settings.host) ? undefined : settings.host), ...(input.caPem ? { ca: input.caPem } : {}) },
    logger: false,
  });
  connection.on('error', () => undefined);
  try {
    await callback<void>((done) => connection.connect((error) => done(error)));
    const login = input.login;
    if (login.kind === 'password') {
      await callback<boolean>((done) => connection.login({ user: login.user, credentials: { user: login.user, pass: login.password } }, done));
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
      await callback<boolean>((done) => connection.login({ type: 'OAuth2', user: login.user, method: 'XOAUTH2', oauth2 }, done));
    }
    if (!(await input.beforeHandOver())) throw new HandOverRefusedError();
    const info = await callback<{ accepted: string[]; rejected: string[]; response: string }>((done) =>
      connection.send(input.envelope, input.raw, (error, result) => done(error, result as never)),
    );
    connection.quit();
    return { response: info.response, accepted: info.accepted, rejected: info.rejected };
  } finally {
    connection.close();
  }
}
