import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The synchronizer token of a session: HMAC of its id under the CSRF key. Nothing to store (it is
 * recomputed from the signed cookie), and a page on another site can neither read it nor make it.
 */
export function csrfToken(key: Buffer, sessionId: string): string {
  return createHmac('sha256', key).update(`csrf.${sessionId}`).digest('base64url');
}

export function csrfTokenMatches(key: Buffer, sessionId: string, presented: unknown): boolean {
  if (typeof presented !== 'string' || presented.length === 0 || presented.length > 200) return false;
  const expected = Buffer.from(csrfToken(key, sessionId));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
