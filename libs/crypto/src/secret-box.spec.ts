import { randomBytes } from 'node:crypto';
import { KeyRing } from './key-ring';
import { SecretBox, SecretDecryptionError } from './secret-box';

const oldKey = randomBytes(32).toString('base64');
const newKey = randomBytes(32).toString('base64');

describe('SecretBox', () => {
  it('round-trips and never contains the plaintext', () => {
    const box = new SecretBox(KeyRing.fromBase64(newKey));
    const sealed = box.encrypt('hunter2-very-secret', 'mailbox:1:password');
    expect(sealed).not.toContain('hunter2');
    expect(sealed.startsWith('v1.')).toBe(true);
    expect(box.decrypt(sealed, 'mailbox:1:password')).toBe('hunter2-very-secret');
  });

  it.each([4, 8, 12, 15])('refuses a value whose authentication tag was cut to %i bytes', (bytes) => {
    const box = new SecretBox(KeyRing.fromBase64(newKey));
    const parts = box.encrypt('state-payload', 'oauth-state').split('.');
    // A truncated GCM tag still verifies unless the length is pinned: 4 bytes is a 1-in-2^32 forgery.
    parts[3] = Buffer.from(parts[3], 'base64url').subarray(0, bytes).toString('base64url');
    expect(() => box.decrypt(parts.join('.'), 'oauth-state')).toThrow(SecretDecryptionError);
  });

  it('refuses an IV of the wrong length', () => {
    const box = new SecretBox(KeyRing.fromBase64(newKey));
    const parts = box.encrypt('x', 'ctx').split('.');
    parts[2] = randomBytes(16).toString('base64url');
    expect(() => box.decrypt(parts.join('.'), 'ctx')).toThrow(/unknown format/);
  });

  it('uses a fresh IV per value', () => {
    const box = new SecretBox(KeyRing.fromBase64(newKey));
    expect(box.encrypt('same', 'c')).not.toEqual(box.encrypt('same', 'c'));
  });

  it('rotates: the old key still decrypts, new values use the new key', () => {
    const before = new SecretBox(KeyRing.fromBase64(oldKey));
    const sealedOld = before.encrypt('s3cret', 'ctx');
    const after = new SecretBox(KeyRing.fromBase64(newKey, [oldKey]));
    expect(after.decrypt(sealedOld, 'ctx')).toBe('s3cret');
    expect(after.needsReencryption(sealedOld)).toBe(true);
    const sealedNew = after.encrypt('s3cret', 'ctx');
    expect(after.needsReencryption(sealedNew)).toBe(false);
    expect(sealedNew.split('.')[1]).not.toEqual(sealedOld.split('.')[1]);
  });

  it('refuses a value sealed with a key it no longer has', () => {
    const sealed = new SecretBox(KeyRing.fromBase64(oldKey)).encrypt('x', 'ctx');
    expect(() => new SecretBox(KeyRing.fromBase64(newKey)).decrypt(sealed, 'ctx')).toThrow(/neither ENCRYPTION_KEY/);
  });

  it('binds the context: a ciphertext moved to another row does not open', () => {
    const box = new SecretBox(KeyRing.fromBase64(newKey));
    const sealed = box.encrypt('x', 'mailbox:1:password');
    expect(() => box.decrypt(sealed, 'mailbox:2:password')).toThrow(SecretDecryptionError);
  });

  it('detects tampering', () => {
    const box = new SecretBox(KeyRing.fromBase64(newKey));
    const parts = box.encrypt('hello world', 'ctx').split('.');
    const body = Buffer.from(parts[4], 'base64url');
    body[0] ^= 1;
    parts[4] = body.toString('base64url');
    expect(() => box.decrypt(parts.join('.'), 'ctx')).toThrow(/authentication failed/);
    expect(() => box.decrypt('garbage', 'ctx')).toThrow(/unknown format/);
  });
});
