import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KeyRing } from './key-ring';

const VERSION = 'v1';
const IV_BYTES = 12;

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
    const cipher = createCipheriv('aes-256-gcm', key.material, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, key.id, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  decrypt(sealed: string, context: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION) throw new SecretDecryptionError('unknown format');
    const [, id, iv, tag, ciphertext] = parts;
    const key = this.keys.find(id);
    if (!key) throw new SecretDecryptionError(`key ${id} is neither ENCRYPTION_KEY nor in ENCRYPTION_OLD_KEYS`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.material, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
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
