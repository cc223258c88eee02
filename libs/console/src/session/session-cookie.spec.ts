import { randomBytes } from 'node:crypto';
import { deriveConsoleKeys } from './console-keys';
import { newSession, signSession, verifySession } from './session-cookie';

describe('console session cookie', () => {
  const keys = deriveConsoleKeys(randomBytes(32));
  const now = 1_800_000_000_000;

  it('round-trips a session until it expires, and not after', () => {
    const session = newSession('session', now, 60_000);
    const cookie = signSession(keys.session, session);
    expect(verifySession(keys.session, cookie, 'session', now + 59_999)).toEqual(session);
    expect(verifySession(keys.session, cookie, 'session', now + 60_000)).toBeNull();
  });

  it('refuses a tampered payload, a forged signature, another key and another kind', () => {
    const cookie = signSession(keys.session, newSession('session', now, 60_000));
    const [version, payload, signature] = cookie.split('.');
    const longer = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), e: now + 10 ** 9 })).toString('base64url');
    expect(verifySession(keys.session, `${version}.${longer}.${signature}`, 'session', now)).toBeNull();
    expect(verifySession(keys.session, `${version}.${payload}.${'A'.repeat(43)}`, 'session', now)).toBeNull();
    expect(verifySession(deriveConsoleKeys(randomBytes(32)).session, cookie, 'session', now)).toBeNull();
    expect(verifySession(keys.csrf, cookie, 'session', now)).toBeNull();
    expect(verifySession(keys.session, cookie, 'pre', now)).toBeNull();
  });

  it('refuses malformed values without throwing', () => {
    for (const value of [undefined, '', 'v1', 'v1..', 'v2.a.b', 'v1.%%%.b', `v1.${Buffer.from('not json').toString('base64url')}.x`]) {
      expect(verifySession(keys.session, value, 'session', now)).toBeNull();
    }
  });

  it('derives different keys for sessions and CSRF, and the same ones from the same ENCRYPTION_KEY', () => {
    const material = randomBytes(32);
    expect(deriveConsoleKeys(material)).toEqual(deriveConsoleKeys(material));
    expect(keys.session.equals(keys.csrf)).toBe(false);
  });
});
