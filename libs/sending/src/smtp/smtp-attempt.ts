import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { OutboundPolicy } from '@app/outbound';
import { SmtpSettings } from '@app/providers';
import { SmtpSessionPool } from './smtp-session-pool';
import { SmtpDelivery, SmtpLogin, SmtpSession } from './smtp-session';

export type { SmtpLogin } from './smtp-session';

export interface SmtpAttemptInput {
  settings: SmtpSettings;
  verifyCertificate: boolean;
  login: SmtpLogin;
  envelope: { from: string; to: string[] };
  /** The message: whole, or a stream opened at the hand-over (each call a new one, read as SMTP takes it). */
  raw: Buffer | (() => Readable);
  /** Logged in, about to hand the message over: resolves once that is recorded (a false stops the attempt). */
  beforeHandOver: () => Promise<boolean>;
  timeoutMs: number;
  outbound: OutboundPolicy;
  /** Extra trust anchors (tests, private CAs). */
  caPem?: string;
  /** EHLO name. */
  clientName?: string;
  /** Reuse a logged-in session of this mailbox (SEND_CONNECTIONS_PER_MAILBOX); without, one connection per attempt. */
  reuse?: { pool: SmtpSessionPool; mailboxId: string };
  /** A reused session that answered within this is used without RSET (default ALIVE_WITHOUT_RESET_MS; tests). */
  aliveWithoutResetMs?: number;
}

export type SmtpAttemptResult = SmtpDelivery;

/** The hand-over was not recorded (the send changed state meanwhile): nothing was sent. */
export class HandOverRefusedError extends Error {
  constructor() {
    super('The send changed state before the message was handed over; nothing was sent');
    this.name = 'HandOverRefusedError';
  }
}

/**
 * A reused session that answered this recently is used without RSET first. After a completed
 * delivery the session's state is clean (RFC 5321 §4.1.1.4: the end of DATA ends the transaction; nodemailer's
 * own pool sends the next MAIL FROM without RSET too), so RSET only checks that the server is still
 * there: one round trip per message, and one more command for the server, for a session that got a 250 a
 * moment ago. A server that closes a session is seen at once ('end'/'error': the pool drops it); RSET
 * still goes first after longer idle (up to SEND_CONNECTION_IDLE_MS), when a connection dropped silently
 * on the way (a NAT or firewall timeout) is possible. A session that fails at MAIL FROM instead is
 * replaced as one that failed its RSET would be (smtpAttempt).
 */
const ALIVE_WITHOUT_RESET_MS = 10_000;

/** A credential as the pool compares it: a hash, so no secret is kept beside the sessions. */
function credentialTag(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

/**
 * One SMTP attempt: a logged-in session (a reused one of the mailbox's, or a new one), the hand-over
 * recorded, MAIL FROM / RCPT TO / DATA. A reused session idle for more than ALIVE_WITHOUT_RESET_MS is
 * reset (RSET) first: one the server dropped while idle fails there, before anything is recorded, and is
 * replaced by a new one silently. A session reused without RSET gets the same from its envelope: when
 * its connection fails before the server asked for the message (no 354, not a byte of it written), it
 * is replaced once, within the attempt; nothing was handed over on it, so the recorded hand-over stays
 * true of the new one. Any other failure once the hand-over is recorded is the attempt's (retried by the
 * caller's rules, never here: the server may have the message). Without `reuse`, the session is opened
 * for this attempt and closed after it.
 */
export async function smtpAttempt(input: SmtpAttemptInput): Promise<SmtpAttemptResult> {
  const { login } = input;
  // The credential this attempt logs in with (the OAuth library refreshes the token first if it is due).
  const firstToken = login.kind === 'oauth2' && input.reuse ? await login.accessToken(false) : undefined;
  const tag = credentialTag(login.kind === 'password' ? login.password : (firstToken ?? ''));
  const { settings } = input;
  const fingerprint = `${settings.security}://${settings.host}:${settings.port}/${input.verifyCertificate ? 'verify' : 'noverify'}/${login.kind}:${login.user}|${tag}`;
  const lease = input.reuse ? await input.reuse.pool.acquire(input.reuse.mailboxId, fingerprint) : null;
  let session: SmtpSession | null = lease?.session ?? null;
  let kept: SmtpSession | null = null;
  /** Reused without RSET: its envelope is the first thing it says since its last delivery. */
  let unchecked = false;
  try {
    if (session?.answeredWithin(input.aliveWithoutResetMs ?? ALIVE_WITHOUT_RESET_MS)) unchecked = true;
    else if (session) {
      try {
        await session.reset();
      } catch {
        // Died while idle (the server's idle timeout, a restart): nothing was recorded yet, so a new one.
        session.close();
        session = null;
      }
    }
    session ??= await SmtpSession.open(input, login, credentialTag, firstToken);
    if (!(await input.beforeHandOver())) {
      kept = session;
      throw new HandOverRefusedError();
    }
    const content = () => (typeof input.raw === 'function' ? input.raw() : input.raw);
    // Broken already (closed while the hand-over was recorded): the attempt's failure, as before.
    const checkable = unchecked && !session.broken;
    let delivery: SmtpDelivery;
    try {
      delivery = await session.deliver(input.envelope, content());
    } catch (error) {
      if (!checkable || !session.lostBeforeContent) throw error;
      // The skipped RSET's failure, seen at MAIL FROM instead: nothing of the message left, so a new session takes it.
      session.close();
      session = await SmtpSession.open(input, login, credentialTag, firstToken);
      delivery = await session.deliver(input.envelope, content());
    }
    kept = session;
    return delivery;
  } finally {
    // The pool keeps a healthy session and closes any other; without a pool the session ends here.
    lease?.release(kept);
    if (!lease || session !== kept) session?.close();
  }
}
