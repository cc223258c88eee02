import { hkdfSync } from 'node:crypto';

/** The console's two keys, each derived from ENCRYPTION_KEY by HKDF-SHA256 with its own label. */
export interface ConsoleKeys {
  /** Signs session cookies (HMAC-SHA256). */
  session: Buffer;
  /** Makes CSRF tokens (HMAC-SHA256 of the session id). */
  csrf: Buffer;
}

/**
 * Derived, not a new variable to set: ENCRYPTION_KEY already has to be a secret of 32 random bytes.
 * Distinct `info` labels keep the derived keys independent of each other and of the secret sealing, so
 * a cookie signature says nothing about encrypted secrets. Rotating ENCRYPTION_KEY signs everyone out.
 */
export function deriveConsoleKeys(encryptionKey: Buffer): ConsoleKeys {
  const derive = (label: string) => Buffer.from(hkdfSync('sha256', encryptionKey, Buffer.alloc(0), `mail-listener console ${label} v1`, 32));
  return { session: derive('session'), csrf: derive('csrf') };
}
