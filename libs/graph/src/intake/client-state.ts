import { createHash, timingSafeEqual } from 'node:crypto';

/** What graph_subscriptions.client_state_hash holds: SHA-256 of the clientState's UTF-8 bytes. */
export function hashClientState(clientState: string): Buffer {
  return createHash('sha256').update(clientState, 'utf8').digest();
}

/**
 * Whether a notification's clientState is the one we gave Graph for its subscription. Both sides are
 * 32-byte digests, compared in constant time, so neither the value nor its length leaks through timing.
 * A missing clientState never matches (a notification without one is forged).
 */
export function clientStateMatches(presented: string | undefined, expectedHash: Buffer): boolean {
  if (presented === undefined) return false;
  const actual = hashClientState(presented);
  // A stored hash of another length is a corrupt row: treat as no match rather than throw.
  if (expectedHash.length !== actual.length) return false;
  return timingSafeEqual(actual, expectedHash);
}
