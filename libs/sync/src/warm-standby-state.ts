import { InvalidTransitionError, TransitionTable, transitionsOf } from '@app/state-machine';

/**
 * Where the taker's side of a make-before-break hand-over stands for one mailbox a live owner still holds:
 * - warming: a standby runner is logging in and selecting its folders;
 * - ready: its sessions listen (IDLE, nothing written or published): the lease may be asked for;
 * - asked: the lease was asked for (a hand-over in transit: the owner stops its runner and grants);
 * - lost: opening failed, or a session dropped, before the grant;
 * - cold: warming gave up, or the ask waited too long for its grant; the lease stays asked for without a warm
 *   session (the taker connects after the grant).
 * The grant (or a takeover from a dead owner) ends the entry: the runner is activated, or started cold.
 */
export type WarmStandbyState = 'warming' | 'ready' | 'asked' | 'lost' | 'cold';

export type WarmStandbyEvent =
  | 'ready' // every folder session listens
  | 'ask' // a lease round asks the owner for the mailbox
  | 'lost' // the standby could not open, or dropped
  | 'rewarm' // a new standby runner for a lost one
  | 'give_up' // too many losses: ask without a warm session
  | 'expire'; // asked, and no grant came within the maximum wait: its session closes

const TRANSITIONS: TransitionTable<WarmStandbyState, WarmStandbyEvent> = {
  warming: { ready: 'ready', lost: 'lost' },
  ready: { ask: 'asked', lost: 'lost' },
  asked: { lost: 'lost', expire: 'cold' },
  lost: { rewarm: 'warming', give_up: 'cold' },
  cold: {},
};

export class InvalidWarmStandbyTransitionError extends InvalidTransitionError<WarmStandbyState, WarmStandbyEvent> {
  readonly code = 'INVALID_WARM_STANDBY_TRANSITION';

  constructor(from: WarmStandbyState, event: WarmStandbyEvent) {
    super('A warm standby', from, event);
  }
}

export const nextWarmStandbyState = transitionsOf(TRANSITIONS, InvalidWarmStandbyTransitionError);

/** Whether the lease is asked for in this state (a ready standby is, once there is room in transit). */
export const askedInState = (state: WarmStandbyState): boolean => state === 'asked' || state === 'cold';
