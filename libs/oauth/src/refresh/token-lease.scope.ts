import { AsyncLocalStorage } from 'node:async_hooks';

/** The lease a mailbox token's refresh runs under: the replica holding the mailbox, and the epoch it holds it under. */
export interface TokenLease {
  mailboxId: string;
  owner: string;
  epoch: number;
}

interface Scope {
  readonly lease: TokenLease;
  refused: boolean;
}

/**
 * Carries the lease from the scheduler that picked a token as its mailbox's owner, through the refresher
 * (which neither knows nor needs to know about leases), to the token store, which writes whatever the
 * refresh ends in (new tokens, a failure, `invalid`) only while that lease is still held. Like a request
 * context: every write of that refresh is fenced, without an epoch threaded through each signature on
 * the way.
 */
const scopes = new AsyncLocalStorage<Scope>();

/** Runs `work` (one token refresh) under `lease`; `refused`: a write it made was refused because the lease had moved on. */
export async function runUnderLease<T>(lease: TokenLease, work: () => Promise<T>): Promise<{ value: T; refused: boolean }> {
  const scope: Scope = { lease, refused: false };
  const value = await scopes.run(scope, work);
  return { value, refused: scope.refused };
}

/** The lease the current write about `mailboxId`'s token must still be held under; undefined outside such a refresh. */
export function leaseOfTokenWrite(mailboxId: string | null): TokenLease | undefined {
  const lease = scopes.getStore()?.lease;
  return lease && lease.mailboxId === mailboxId ? lease : undefined;
}

/** The store refused a write of the current refresh (its result is dropped). */
export function tokenWriteRefused(): void {
  const scope = scopes.getStore();
  if (scope) scope.refused = true;
}
