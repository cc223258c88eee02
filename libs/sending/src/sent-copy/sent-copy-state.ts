import { InvalidTransitionError, TransitionTable, transitionsOf } from '@app/state-machine';

/**
 * The copy of a sent message in the mailbox's Sent folder (Postgres enum `sent_copy_state`, on the send's
 * row; `sentCopy.state` of `GET …/outbox/:sendId`):
 * - `pending`: not made yet (the send is not `sent` yet, or the copy waits for its next try).
 * - `appending`: a worker holds it until its hold runs out (a worker that died leaves it to the next).
 * - `appended`: in the Sent folder. `failed`: given up (`error` says why). `not_needed`: the server keeps
 *   its own copy (Exchange Online, Gmail, Graph: provider setting appendToSent off).
 */
export const SENT_COPY_STATES = ['pending', 'appending', 'appended', 'failed', 'not_needed'] as const;
export type SentCopyState = (typeof SENT_COPY_STATES)[number];

/**
 * - `skip`: the provider's appendToSent is off.
 * - `claim`: a worker takes the copy; also a copy whose holder's time ran out (it died mid-append).
 * - `appended`: the APPEND succeeded (or the message was found there already: an earlier holder's APPEND
 *   landed before it died). `retry`: a transient failure, tried again later. `give_up`: no Sent folder, or
 *   the tries are used up.
 */
export type SentCopyEvent = 'skip' | 'claim' | 'appended' | 'retry' | 'give_up';

const TABLE: TransitionTable<SentCopyState, SentCopyEvent> = {
  pending: { skip: 'not_needed', claim: 'appending' },
  appending: { claim: 'appending', appended: 'appended', retry: 'pending', give_up: 'failed' },
  appended: {},
  failed: {},
  not_needed: {},
};

export class InvalidSentCopyTransitionError extends InvalidTransitionError<SentCopyState, SentCopyEvent> {
  readonly code = 'INVALID_SENT_COPY_TRANSITION';

  constructor(from: SentCopyState, event: SentCopyEvent) {
    super('A Sent copy', from, event);
  }
}

export const nextSentCopyState = transitionsOf(TABLE, InvalidSentCopyTransitionError);

/** The states `event` applies to (the repository's conditional updates use them). */
export function sentCopyStatesTaking(event: SentCopyEvent): SentCopyState[] {
  return SENT_COPY_STATES.filter((state) => TABLE[state][event] !== undefined);
}

export function sentCopyTargetOf(event: SentCopyEvent): SentCopyState {
  const [from] = sentCopyStatesTaking(event);
  return nextSentCopyState(from, event);
}

/** Tries in all (the first right after the send, then after 30 s, 2 min, 8 min, 32 min). */
export const SENT_COPY_MAX_ATTEMPTS = 5;
const FIRST_RETRY_MS = 30_000;

/** How long a claim holds the copy: longer than any one append may take (connect, LIST, APPEND, each bounded). */
export const SENT_COPY_HOLD_MS = 5 * 60_000;

/** Why an append failed: `permanent` when trying again cannot help (no Sent folder). */
export interface SentCopyFailure {
  permanent: boolean;
  message: string;
}

/** After a failed try (`attempts` made so far, this one included): when to try again, or give up. */
export function afterFailedAppend(attempts: number, failure: SentCopyFailure): { event: 'retry'; delayMs: number } | { event: 'give_up' } {
  if (failure.permanent || attempts >= SENT_COPY_MAX_ATTEMPTS) return { event: 'give_up' };
  return { event: 'retry', delayMs: FIRST_RETRY_MS * 4 ** (attempts - 1) };
}
