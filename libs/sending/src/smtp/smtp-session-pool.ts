import { SmtpSession } from './smtp-session';

export interface SmtpSessionPoolOptions {
  /** Sessions (busy, idle and being opened) per mailbox at most; 0: no reuse, every attempt opens and quits its own. */
  perMailbox: number;
  /** An idle session is closed after this long. */
  idleMs: number;
  /** A session is retired after handing over this many messages (servers limit messages per session). */
  maxMessages: number;
}

/**
 * A slot of a mailbox's sessions, held by one attempt: with `session`, an idle one to reuse (reset it
 * first: it may have died while idle); without, the right to open one. Given back with `release`.
 */
export interface SmtpSessionLease {
  session: SmtpSession | null;
  /** Back to the pool: the session to keep (healthy, after a completed delivery), or null (none, or broken). */
  release(session: SmtpSession | null): void;
}

interface Idle {
  session: SmtpSession;
  timer: NodeJS.Timeout;
  unwatch: () => void;
}

interface Waiter {
  fingerprint: string;
  resolve: (lease: SmtpSessionLease) => void;
}

interface MailboxSessions {
  /** Slots taken: sessions busy, idle, or being opened. */
  held: number;
  idle: Idle[];
  waiters: Waiter[];
  /** The fingerprint of the latest attempt: a session logged in with an older credential is not kept. */
  fingerprint: string;
}

/**
 * Logged-in SMTP sessions per mailbox, reused under load: at most `perMailbox` per mailbox (servers limit
 * concurrent sessions per account: Exchange Online 3 … 20, many others fewer), idle ones closed after
 * `idleMs`, and attempts beyond the limit wait for a slot in order. A session is reused only by an attempt
 * with the same fingerprint (server settings and credential: a changed password or a refreshed access
 * token retires the sessions logged in with the old one). The pool never hands a message over itself:
 * the attempt does, after recording it (send.processor.ts), so the in-flight rule holds under reuse.
 */
export class SmtpSessionPool {
  private readonly mailboxes = new Map<string, MailboxSessions>();
  private closed = false;

  constructor(readonly options: SmtpSessionPoolOptions) {}

  get enabled(): boolean {
    return this.options.perMailbox > 0 && !this.closed;
  }

  /** A slot for one attempt of `mailboxId`; waits while the mailbox's sessions are all busy. */
  acquire(mailboxId: string, fingerprint: string): Promise<SmtpSessionLease> {
    if (!this.enabled) return Promise.resolve(this.unpooled());
    const sessions = this.sessionsOf(mailboxId);
    if (sessions.fingerprint !== fingerprint) {
      sessions.fingerprint = fingerprint;
      for (const idle of sessions.idle.splice(0)) this.retire(sessions, idle);
    }
    const idle = sessions.idle.pop();
    if (idle) {
      this.unidle(idle);
      return Promise.resolve(this.lease(mailboxId, idle.session, fingerprint));
    }
    if (sessions.held < this.options.perMailbox) {
      sessions.held += 1;
      return Promise.resolve(this.lease(mailboxId, null, fingerprint));
    }
    return new Promise((resolve) => sessions.waiters.push({ fingerprint, resolve }));
  }

  /** Sessions open now (busy and idle), per mailbox: tests and the benchmark. */
  held(mailboxId: string): number {
    return this.mailboxes.get(mailboxId)?.held ?? 0;
  }

  /** Shutdown: idle sessions say QUIT, busy ones are closed when given back; later attempts are unpooled. */
  closeAll(): void {
    this.closed = true;
    for (const sessions of this.mailboxes.values()) {
      for (const idle of sessions.idle.splice(0)) this.retire(sessions, idle);
      for (const waiter of sessions.waiters.splice(0)) waiter.resolve(this.unpooled());
    }
  }

  private lease(mailboxId: string, session: SmtpSession | null, fingerprint: string): SmtpSessionLease {
    let released = false;
    return {
      session,
      release: (kept) => {
        if (released) return;
        released = true;
        this.giveBack(mailboxId, kept, fingerprint);
      },
    };
  }

  /** Without a pool: the attempt opens its own session and closes it. */
  private unpooled(): SmtpSessionLease {
    return { session: null, release: (kept) => kept?.close() };
  }

  /**
   * `fingerprint`: the one the lease was taken with (the session's server settings); the session's own
   * credential tag may be newer (a token renewed during its login).
   */
  private giveBack(mailboxId: string, kept: SmtpSession | null, fingerprint: string): void {
    const sessions = this.sessionsOf(mailboxId);
    const keptAs = kept ? `${settingsOf(fingerprint)}|${kept.credentialTag}` : '';
    // Kept only when healthy and logged in as the mailbox's latest attempt would log in (same server settings, same credential).
    const usable = kept && !kept.broken && !this.closed && kept.delivered < this.options.maxMessages && keptAs === sessions.fingerprint ? kept : null;
    if (kept && !usable) kept.close();
    const waiter = sessions.waiters.shift();
    if (waiter) {
      // The slot passes on; the session too when the waiter would log in the same way.
      if (usable && waiter.fingerprint === keptAs) return waiter.resolve(this.lease(mailboxId, usable, waiter.fingerprint));
      usable?.close();
      return waiter.resolve(this.lease(mailboxId, null, waiter.fingerprint));
    }
    if (!usable) {
      sessions.held -= 1;
      this.forgetIfEmpty(mailboxId, sessions);
      return;
    }
    const idle: Idle = {
      session: usable,
      timer: setTimeout(() => this.drop(mailboxId, idle), this.options.idleMs),
      // The server closed it (its idle timeout, a restart): it goes at once, not at its next use.
      unwatch: usable.onBroken(() => this.drop(mailboxId, idle)),
    };
    idle.timer.unref();
    sessions.idle.push(idle);
  }

  private drop(mailboxId: string, idle: Idle): void {
    const sessions = this.mailboxes.get(mailboxId);
    if (!sessions) return;
    const at = sessions.idle.indexOf(idle);
    if (at < 0) return;
    sessions.idle.splice(at, 1);
    this.retire(sessions, idle);
    this.forgetIfEmpty(mailboxId, sessions);
  }

  private retire(sessions: MailboxSessions, idle: Idle): void {
    this.unidle(idle);
    idle.session.close();
    sessions.held -= 1;
  }

  private unidle(idle: Idle): void {
    clearTimeout(idle.timer);
    idle.unwatch();
  }

  private sessionsOf(mailboxId: string): MailboxSessions {
    let sessions = this.mailboxes.get(mailboxId);
    if (!sessions) {
      sessions = { held: 0, idle: [], waiters: [], fingerprint: '' };
      this.mailboxes.set(mailboxId, sessions);
    }
    return sessions;
  }

  private forgetIfEmpty(mailboxId: string, sessions: MailboxSessions): void {
    if (sessions.held === 0 && sessions.waiters.length === 0) this.mailboxes.delete(mailboxId);
  }
}

/** A fingerprint is `<server settings and login>|<credential tag>`: its first part. */
function settingsOf(fingerprint: string): string {
  return fingerprint.slice(0, fingerprint.lastIndexOf('|'));
}
