import { randomBytes } from 'node:crypto';
import { csrfToken, csrfTokenMatches } from './csrf';

describe('console CSRF token', () => {
  const key = randomBytes(32);

  it("accepts the session's own token only", () => {
    const token = csrfToken(key, 'session-a');
    expect(csrfTokenMatches(key, 'session-a', token)).toBe(true);
    expect(csrfTokenMatches(key, 'session-b', token)).toBe(false);
    expect(csrfTokenMatches(randomBytes(32), 'session-a', token)).toBe(false);
  });

  it('refuses a missing, empty, non-string or altered token', () => {
    const token = csrfToken(key, 'session-a');
    for (const presented of [undefined, null, '', 42, ['x'], token.slice(1), `${token}x`, 'x'.repeat(500)]) {
      expect(csrfTokenMatches(key, 'session-a', presented)).toBe(false);
    }
  });
});
