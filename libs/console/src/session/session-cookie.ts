import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** `session`: signed in; `pre`: the sign-in form's own session, so that form carries a CSRF token too. */
export type SessionKind = 'session' | 'pre';

export interface ConsoleSession {
  /** Random; CSRF tokens are bound to it. */
  id: string;
  kind: SessionKind;
  /** Epoch milliseconds after which the cookie is refused. */
  expiresAt: number;
}

const VERSION = 'v1';

function mac(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(`${VERSION}.${payload}`).digest();
}

export function newSession(kind: SessionKind, now: number, ttlMs: number): ConsoleSession {
  return { id: randomBytes(18).toString('base64url'), kind, expiresAt: now + ttlMs };
}

/** `v1.<payload>.<hmac>`: the payload is readable (it holds nothing secret), the HMAC makes it unforgeable. */
export function signSession(key: Buffer, session: ConsoleSession): string {
  const payload = Buffer.from(JSON.stringify({ i: session.id, k: session.kind, e: session.expiresAt })).toString('base64url');
  return `${VERSION}.${payload}.${mac(key, payload).toString('base64url')}`;
}

/** The session a cookie value carries, or null when it is malformed, forged, of another kind or expired. */
export function verifySession(key: Buffer, value: string | undefined, kind: SessionKind, now: number): ConsoleSession | null {
  if (!value) return null;
  const parts = value.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) return null;
  const [, payload, signature] = parts;
  const presented = Buffer.from(signature, 'base64url');
  const expected = mac(key, payload);
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const { i, k, e } = (parsed ?? {}) as { i?: unknown; k?: unknown; e?: unknown };
  if (typeof i !== 'string' || k !== kind || typeof e !== 'number' || !(e > now)) return null;
  return { id: i, kind, expiresAt: e };
}
