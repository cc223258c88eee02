import { createHash } from 'node:crypto';

/** A short, stable key for a folder path (paths may hold any character, event ids and refs must not). */
export function folderKey(path: string): string {
  return createHash('sha256').update(path).digest('hex').slice(0, 12);
}
