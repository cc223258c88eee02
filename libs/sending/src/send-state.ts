import { InvalidTransitionError, TransitionTable, transitionsOf } from '@app/state-machine';

/** States of a send, as `GET /v1/mailboxes/:id/outbox/:sendId` shows them (Postgres enum `send_state`). */
export const SEND_STATES = ['queued', 'sending', 'sent', 'failed'] as const;
export type SendState = (typeof SEND_STATES)[number];

/** The final states (no transition leaves them). */
export const FINAL_SEND_STATES = ['sent', 'failed'] as const satisfies readonly SendState[];

/**
 * What one attempt came to, as `result` of mail_listener_sends_total: the final state it recorded
 * (`sent`, `failed`), or `retried` (the `retry` event: queued again after a transient failure).
 */
export type SendResult = (typeof FINAL_SEND_STATES)[number] | 'retried';
export const SEND_RESULTS: readonly SendResult[] = [...FINAL_SEND_STATES, 'retried'];

/** The states a send waits or runs in (the outbox depth gauge). */
export const PENDING_SEND_STATES = SEND_STATES.filter((state) => !(FINAL_SEND_STATES as readonly SendState[]).includes(state));

/**
 * What happens to a send:
 * - `in_flight`: logged in, about to hand the message over (MAIL FROM … DATA); recorded before it happens.
 * - `accepted`: the server accepted DATA (250).
 * - `retry`: a transient failure (network, 4xx) inside the retry window: queued again with the error.
 * - `give_up`: a permanent failure (5xx, refused login, window over), or an attempt found in flight after
 *   a crash (outcome unknown: not sent again, see send-attempt.ts).
 */
export type SendEvent = 'in_flight' | 'accepted' | 'retry' | 'give_up';

/** The one place the transitions live. `sent` and `failed` are final. */
const TABLE: TransitionTable<SendState, SendEvent> = {
  queued: { in_flight: 'sending', retry: 'queued', give_up: 'failed' },
  sending: { accepted: 'sent', retry: 'queued', give_up: 'failed' },
  sent: {},
  failed: {},
};

export class InvalidSendTransitionError extends InvalidTransitionError<SendState, SendEvent> {
  readonly code = 'INVALID_SEND_TRANSITION';

  constructor(from: SendState, event: SendEvent) {
    super('A send', from, event);
  }
}

export const nextSendState = transitionsOf(TABLE, InvalidSendTransitionError);

/** The states a send may be in for `event` to apply (the repository's conditional updates use them). */
export function statesTaking(event: SendEvent): SendState[] {
  return SEND_STATES.filter((state) => TABLE[state][event] !== undefined);
}

/** The state `event` leads to (the same from every state that takes it). */
export function targetOf(event: SendEvent): SendState {
  const [from] = statesTaking(event);
  return nextSendState(from, event);
}
