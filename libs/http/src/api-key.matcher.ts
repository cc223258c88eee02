import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares a presented key with every configured key in constant time: both sides are hashed to a fixed
 * length first and all keys are checked, so neither the length nor the position of a match leaks.
 */
export class ApiKeyMatcher {
  private readonly digests: Buffer[];

  constructor(keys: string[]) {
    this.digests = keys.map(digest);
  }

  get configured(): boolean {
    return this.digests.length > 0;
  }

  matches(presented: string): boolean {
    const candidate = digest(presented);
    let found = false;
    for (const known of this.digests) found = timingSafeEqual(candidate, known) || found;
    return found;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
