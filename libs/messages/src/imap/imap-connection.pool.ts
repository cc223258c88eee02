import { createHash } from 'node:crypto';
import { ImapFlow } from 'imapflow';
import { withTimeout } from '@app/async';
import { ImapCredential, ImapEndpoint, imapFlowOptions, ImapTimeouts } from '@app/imap';
import { OutboundPolicy } from '@app/outbound';

/** Every session of the mailbox stayed lent for longer than the wait allows (slow downloads hold them). */
export class ImapPoolBusyError extends Error {
  constructor(readonly waitedMs: number, readonly sessions: number) {
    super(`All ${sessions} IMAP sessions of this mailbox stayed busy for ${waitedMs / 1000} s`);
    this.name = 'ImapPoolBusyError';
  }
}

export interface ImapPoolOptions {
  /** Sessions per mailbox at most: servers limit concurrent sessions per user (Dovecot: mail_max_userip_connections = 10). */
  maxPerMailbox: number;
  /** An idle session is logged out after this long. */
  idleMs: number;
  /** A read waits this long at most for a session of its mailbox to come free. */
  waitMs: number;
  timeouts: ImapTimeouts;
  outbound: OutboundPolicy;
}

interface PooledSession {
  client: ImapFlow;
  credentialKey: string;
  idleTimer?: NodeJS.Timeout;
  dead: boolean;
}

interface MailboxSlots {
  idle: PooledSession[];
  /** Sessions open or opening for this mailbox (idle ones included). */
  open: number;
  waiters: Array<() => void>;
}

/** A session lent to one read; `release(reusable)` gives it back (or logs it out when the read left it in an unknown state). */
export interface ImapLease {
  client: ImapFlow;
  /** An idle session from an earlier read (it may have gone stale meanwhile: the server dropped it, the folder changed). */
  reused: boolean;
  release(reusable: boolean): void;
}

const LOGOUT_WAIT_MS = 2_000;

/**
 * Short-lived IMAP sessions for reading messages, per mailbox: at most `maxPerMailbox` at once (further
 * reads wait their turn), reused while they are idle for less than `idleMs`, each lent to one read at a
 * time (a streamed download owns the connection until it ends). Sessions are keyed by the credential
 * they logged in with, so a changed password or token opens new ones and the old ones are dropped.
 */
export class ImapConnectionPool {
  private readonly mailboxes = new Map<string, MailboxSlots>();
  /** Logins made, for tests and the benchmark. */
  logins = 0;

  constructor(private readonly options: ImapPoolOptions) {}

  /** `fresh`: a new session (the idle ones are logged out first: one of them just failed, the others may be as stale). */
  async acquire(mailboxId: string, endpoint: ImapEndpoint, credential: ImapCredential, fresh = false): Promise<ImapLease> {
    const credentialKey = keyOf(endpoint, credential);
    const slots = this.slots(mailboxId);
    if (fresh) for (const idle of [...slots.idle]) this.discard(mailboxId, slots, idle);
    for (;;) {
      // Sessions of an older credential go first: the password or token they logged in with has changed.
      for (const stale of slots.idle.filter((s) => s.credentialKey !== credentialKey)) this.discard(mailboxId, slots, stale);
      const session = slots.idle.pop();
      if (session) {
        clearTimeout(session.idleTimer);
        if (!session.dead && session.client.usable) return this.lease(mailboxId, slots, session, true);
        this.discard(mailboxId, slots, session);
        continue;
      }
      if (slots.open < this.options.maxPerMailbox) break;
      await this.waitForTurn(slots);
    }
    slots.open += 1;
    try {
      return this.lease(mailboxId, slots, await this.connect(endpoint, credential, credentialKey), false);
    } catch (error) {
      slots.open -= 1;
      this.wakeOne(mailboxId, slots);
      throw error;
    }
  }

  private waitForTurn(slots: MailboxSlots): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const turn = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const at = slots.waiters.indexOf(turn);
        if (at >= 0) slots.waiters.splice(at, 1);
        reject(new ImapPoolBusyError(this.options.waitMs, this.options.maxPerMailbox));
      }, this.options.waitMs);
      slots.waiters.push(turn);
    });
  }

  /** Sessions open for a mailbox now (idle or lent). */
  openSessions(mailboxId: string): number {
    return this.mailboxes.get(mailboxId)?.open ?? 0;
  }

  async close(): Promise<void> {
    const all = [...this.mailboxes.values()].flatMap((slots) => slots.idle);
    this.mailboxes.clear();
    await Promise.all(all.map((session) => logout(session)));
  }

  private slots(mailboxId: string): MailboxSlots {
    let slots = this.mailboxes.get(mailboxId);
    if (!slots) {
      slots = { idle: [], open: 0, waiters: [] };
      this.mailboxes.set(mailboxId, slots);
    }
    return slots;
  }

  private async connect(endpoint: ImapEndpoint, credential: ImapCredential, credentialKey: string): Promise<PooledSession> {
    // An IP literal is connected to without a lookup: judge it here (names are judged by the policy's lookup).
    this.options.outbound.checkHost(endpoint.host);
    const client = new ImapFlow({ ...imapFlowOptions(endpoint, credential, this.options.timeouts, this.options.outbound), disableAutoIdle: true });
    const session: PooledSession = { client, credentialKey, dead: false };
    client.on('error', () => (session.dead = true));
    client.on('close', () => (session.dead = true));
    try {
      await client.connect();
    } catch (error) {
      client.close();
      throw error;
    }
    this.logins += 1;
    return session;
  }

  private lease(mailboxId: string, slots: MailboxSlots, session: PooledSession, reused: boolean): ImapLease {
    let released = false;
    return {
      client: session.client,
      reused,
      release: (reusable) => {
        if (released) return;
        released = true;
        if (!reusable || session.dead || !session.client.usable) return this.discard(mailboxId, slots, session);
        session.idleTimer = setTimeout(() => {
          const at = slots.idle.indexOf(session);
          if (at >= 0) slots.idle.splice(at, 1);
          this.discard(mailboxId, slots, session);
        }, this.options.idleMs);
        session.idleTimer.unref?.();
        slots.idle.push(session);
        this.wakeOne(mailboxId, slots);
      },
    };
  }

  private discard(mailboxId: string, slots: MailboxSlots, session: PooledSession): void {
    clearTimeout(session.idleTimer);
    const at = slots.idle.indexOf(session);
    if (at >= 0) slots.idle.splice(at, 1);
    slots.open -= 1;
    void logout(session);
    this.wakeOne(mailboxId, slots);
  }

  private wakeOne(mailboxId: string, slots: MailboxSlots): void {
    const next = slots.waiters.shift();
    if (next) return next();
    if (slots.open === 0 && slots.idle.length === 0) this.mailboxes.delete(mailboxId);
  }
}

function keyOf(endpoint: ImapEndpoint, credential: ImapCredential): string {
  const secret = credential.kind === 'password' ? credential.password : credential.accessToken;
  return createHash('sha256').update(JSON.stringify([endpoint, credential.kind, credential.login, secret])).digest('base64url');
}

async function logout(session: PooledSession): Promise<void> {
  session.dead = true;
  try {
    if (session.client.usable) await withTimeout(session.client.logout(), LOGOUT_WAIT_MS);
  } catch {
    // Not answering or already gone: closed below either way.
  } finally {
    session.client.close();
  }
}
