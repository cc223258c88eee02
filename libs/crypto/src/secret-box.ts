import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KeyRing } from './key-ring';

const VERSION = 'v1';
const IV_BYTES = 12;
/**
 * GCM accepts tags cut down to 4 bytes unless the length is pinned: a forger would then need 2^32 tries,
 * not 2^128. Every value we seal has a 16-byte tag, so anything else is refused before decryption.
 */
const TAG_BYTES = 16;

export class SecretDecryptionError extends Error {
  constructor(reason: string) {
    super(`Cannot decrypt secret: ${reason}`);
    this.name = 'SecretDecryptionError';
  }
}

/**
 * AES-256-GCM with a random 96-bit IV per secret. Format: `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url),
 * so each value names the key that sealed it and rotation needs no extra column.
 * `context` (e.g. "mailbox:<id>:password") is bound as additional authenticated data: a ciphertext
 * copied onto another row fails to open instead of leaking that row's secret.
 */
export class SecretBox {
  constructor(private readonly keys: KeyRing) {}

  encrypt(plaintext: string, context: string): string {
    const key = this.keys.current;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key.material, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, key.id, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  decrypt(sealed: string, context: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION) throw new SecretDecryptionError('unknown format');
    const [, id, ivText, tagText, ciphertext] = parts;
    const iv = Buffer.from(ivText, 'base64url');
    const tag = Buffer.from(tagText, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SecretDecryptionError('unknown format');
    const key = this.keys.find(id);
    if (!key) throw new SecretDecryptionError(`key ${id} is neither ENCRYPTION_KEY nor in ENCRYPTION_OLD_KEYS`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.material, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretDecryptionError('authentication failed (wrong key or tampered value)');
    }
  }

  /** True when the value was sealed with an older key and should be re-encrypted. */
  needsReencryption(sealed: string): boolean {
    return sealed.split('.')[1] !== this.keys.current.id;
  }
}
