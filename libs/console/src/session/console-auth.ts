import type { Request, Response } from 'express';
import { ApiKeyMatcher } from '@app/http';
import { ConsoleKeys } from './console-keys';
import { csrfToken, csrfTokenMatches } from './csrf';
import { ConsoleSession, newSession, SessionKind, signSession, verifySession } from './session-cookie';
import { SignInLimiter } from './sign-in-limiter';

/** A signed-in session lasts a working day; it is not extended by use, so a stolen cookie dies too. */
export const SESSION_TTL_MS = 8 * 3600_000;
/** The sign-in form's own session (its CSRF token): an hour to type a key. */
export const PRE_SESSION_TTL_MS = 3600_000;

const COOKIE = { session: 'ml_console_session', pre: 'ml_console_presign' } as const;

export interface ConsoleAuthOptions {
  keys: ConsoleKeys;
  apiKeys: ApiKeyMatcher;
  /** Cookies get `Secure` outside development (a local `npm start` is plain http). */
  secureCookies: boolean;
  limiter?: SignInLimiter;
  now?: () => number;
}

export type SignInOutcome = { ok: true; session: ConsoleSession } | { ok: false; reason: 'wrong_key' } | { ok: false; reason: 'rate_limited'; retryAfterMs: number };

/** One cookie's value out of the Cookie header (no parser needed for the two names we set). */
function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** Sessions, CSRF tokens and the API-key check of the console, in one place. */
export class ConsoleAuth {
  readonly limiter: SignInLimiter;
  private readonly now: () => number;

  constructor(private readonly options: ConsoleAuthOptions) {
    this.limiter = options.limiter ?? new SignInLimiter();
    this.now = options.now ?? Date.now;
  }

  session(req: Request, kind: SessionKind = 'session'): ConsoleSession | null {
    return verifySession(this.options.keys.session, readCookie(req, COOKIE[kind]), kind, this.now());
  }

  csrfFor(session: ConsoleSession): string {
    return csrfToken(this.options.keys.csrf, session.id);
  }

  csrfValid(session: ConsoleSession, presented: unknown): boolean {
    return csrfTokenMatches(this.options.keys.csrf, session.id, presented);
  }

  /** The sign-in form's session: the one it already has, or a new one set as a cookie. */
  preSession(req: Request, res: Response): ConsoleSession {
    const existing = this.session(req, 'pre');
    if (existing) return existing;
    const created = newSession('pre', this.now(), PRE_SESSION_TTL_MS);
    this.setCookie(res, 'pre', created);
    return created;
  }

  /** The same constant-time check as the API's Bearer keys (ApiKeyMatcher), with failures counted per address. */
  signIn(address: string, presentedKey: unknown): SignInOutcome {
    const now = this.now();
    const retryAfterMs = this.limiter.retryAfterMs(address, now);
    if (retryAfterMs > 0) return { ok: false, reason: 'rate_limited', retryAfterMs };
    if (typeof presentedKey !== 'string' || presentedKey.trim() === '' || !this.options.apiKeys.matches(presentedKey.trim())) {
      this.limiter.recordFailure(address, now);
      return { ok: false, reason: 'wrong_key' };
    }
    return { ok: true, session: newSession('session', now, SESSION_TTL_MS) };
  }

  startSession(res: Response, session: ConsoleSession): void {
    this.setCookie(res, 'session', session);
    this.clearCookie(res, 'pre');
  }

  endSession(res: Response): void {
    this.clearCookie(res, 'session');
  }

  private setCookie(res: Response, kind: SessionKind, session: ConsoleSession): void {
    res.cookie(COOKIE[kind], signSession(this.options.keys.session, session), {
      httpOnly: true,
      sameSite: 'strict',
      secure: this.options.secureCookies,
      path: '/console',
      expires: new Date(session.expiresAt),
    });
  }

  private clearCookie(res: Response, kind: SessionKind): void {
    res.clearCookie(COOKIE[kind], { httpOnly: true, sameSite: 'strict', secure: this.options.secureCookies, path: '/console' });
  }
}
