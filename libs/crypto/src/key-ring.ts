import { createHash } from 'node:crypto';

export interface EncryptionKey {
  /** Short, stable id derived from the key itself, written next to every ciphertext. */
  id: string;
  material: Buffer;
}

export function keyId(material: Buffer): string {
  return createHash('sha256').update(material).digest('hex').slice(0, 8);
}

export function parseKey(base64: string): EncryptionKey {
  const material = Buffer.from(base64, 'base64');
  if (material.length !== 32) throw new Error('An encryption key must be base64 of exactly 32 bytes');
  return { id: keyId(material), material };
}

/**
 * The current key (all new ciphertexts) and the older keys still accepted for decryption, so
 * ENCRYPTION_KEY can rotate without downtime: deploy with the old key moved to ENCRYPTION_OLD_KEYS,
 * then run `npm run secrets:reencrypt` and drop the old key.
 */
export class KeyRing {
  private readonly byId = new Map<string, EncryptionKey>();

  constructor(
    readonly current: EncryptionKey,
    older: EncryptionKey[] = [],
  ) {
    for (const key of [current, ...older]) this.byId.set(key.id, key);
  }

  static fromBase64(current: string, older: string[] = []): KeyRing {
    return new KeyRing(parseKey(current), older.map(parseKey));
  }

  find(id: string): EncryptionKey | undefined {
    return this.byId.get(id);
  }
}
