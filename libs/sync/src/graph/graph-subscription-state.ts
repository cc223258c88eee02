import { InvalidTransitionError, TransitionTable, transitionsOf } from '@app/state-machine';

/** Where one folder's Graph change-notification subscription stands. */
export const GRAPH_SUBSCRIPTION_STATES = ['none', 'creating', 'active', 'renewing', 'reauthorization_required', 'removed', 'failed', 'polling'] as const;
export type GraphSubscriptionState = (typeof GRAPH_SUBSCRIPTION_STATES)[number];

export type GraphSubscriptionEvent =
  | 'adopt' // a subscription stored by an earlier run is taken over (then renewed)
  | 'create' // about to POST /subscriptions
  | 'created' // Graph confirmed it (handshake passed)
  | 'renew' // about to PATCH its expiry
  | 'renewed' // PATCH or /reauthorize succeeded
  | 'reauthorization_required' // lifecycle event: Graph wants a fresh token before it notifies again
  | 'removed' // Graph deleted it (lifecycle event, or 404 on renew)
  | 'failed' // creating or renewing failed (the runner reconnects with backoff)
  | 'poll' // no PUBLIC_BASE_URL: the folder is polled by delta instead
  | 'close'; // the folder stopped (mailbox stopped, disabled or deleted)

/** The subscription state machine, in one table ('close' applies to every state). */
const TRANSITIONS: TransitionTable<GraphSubscriptionState, GraphSubscriptionEvent> = {
  none: { adopt: 'active', create: 'creating', poll: 'polling' },
  creating: { created: 'active', failed: 'failed' },
  active: { renew: 'renewing', reauthorization_required: 'reauthorization_required', removed: 'removed' },
  renewing: { renewed: 'active', removed: 'removed', reauthorization_required: 'reauthorization_required', failed: 'failed' },
  reauthorization_required: { renew: 'renewing', renewed: 'active', removed: 'removed', failed: 'failed' },
  removed: { create: 'creating' },
  failed: { create: 'creating', renew: 'renewing' },
  polling: {},
};

export class InvalidGraphSubscriptionTransitionError extends InvalidTransitionError<GraphSubscriptionState, GraphSubscriptionEvent> {
  readonly code = 'INVALID_GRAPH_SUBSCRIPTION_TRANSITION';

  constructor(from: GraphSubscriptionState, event: GraphSubscriptionEvent) {
    super('A Graph subscription', from, event);
  }
}

const nextFromTable = transitionsOf(TRANSITIONS, InvalidGraphSubscriptionTransitionError);

export function nextGraphSubscriptionState(from: GraphSubscriptionState, event: GraphSubscriptionEvent): GraphSubscriptionState {
  return event === 'close' ? 'none' : nextFromTable(from, event);
}
