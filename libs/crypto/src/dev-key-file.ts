import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Development only: a random secret kept in a file under DATA_DIR so `npm start` works on a fresh
 * machine without configuration and the same secrets decrypt after a restart. Production refuses to
 * start without explicit keys (see loadConfig).
 */
export function readOrCreateDevSecret(path: string, create: () => string = () => randomBytes(32).toString('base64')): {
  value: string;
  created: boolean;
} {
  if (existsSync(path)) return { value: readFileSync(path, 'utf8').trim(), created: false };
  mkdirSync(dirname(path), { recursive: true });
  const value = create();
  try {
    // Exclusive create: when two processes race, the loser reads the winner's value.
    writeFileSync(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { value: readFileSync(path, 'utf8').trim(), created: false };
    throw error;
  }
  chmodSync(path, 0o600);
  return { value, created: true };
}
