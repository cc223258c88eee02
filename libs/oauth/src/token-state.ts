import { TokenState } from '@app/persistence';
import { InvalidTransitionError, TransitionTable, transitionsOf } from '@app/state-machine';

/** What can happen to a token. Each transition below names the state it leads to. */
export type TokenEvent =
  | 'authorization_started' // device code issued or consent link handed out
  | 'authorization_completed' // the user signed in; tokens stored
  | 'authorization_failed' // declined, expired, wrong account
  | 'tokens_imported' // PUT /token with tokens the CRM already holds
  | 'refreshed' // proactive refresh succeeded
  | 'refresh_failed_transiently' // network, 5xx, 429: retry later, keep using the token
  | 'refresh_failed_permanently' // revoked, expired grant, consent withdrawn: a human must sign in again
  | 'deleted'; // DELETE /token

/**
 * The token state machine, in one table. An active token stays active while a new sign-in is pending or
 * fails (the mailbox keeps syncing); an invalid one waits for a new grant and is never retried.
 */
const TRANSITIONS: TransitionTable<TokenState, TokenEvent> = {
  not_obtained: {
    authorization_started: 'waiting_for_authorization',
    authorization_completed: 'active',
    tokens_imported: 'active',
    deleted: 'not_obtained',
  },
  waiting_for_authorization: {
    authorization_started: 'waiting_for_authorization',
    authorization_completed: 'active',
    authorization_failed: 'not_obtained',
    tokens_imported: 'active',
    deleted: 'not_obtained',
  },
  active: {
    authorization_started: 'active',
    authorization_completed: 'active',
    authorization_failed: 'active',
    tokens_imported: 'active',
    refreshed: 'active',
    refresh_failed_transiently: 'active',
    refresh_failed_permanently: 'invalid',
    deleted: 'not_obtained',
  },
  invalid: {
    authorization_started: 'waiting_for_authorization',
    authorization_completed: 'active',
    authorization_failed: 'invalid',
    tokens_imported: 'active',
    deleted: 'not_obtained',
  },
};

export class InvalidTokenTransitionError extends InvalidTransitionError<TokenState, TokenEvent> {
  readonly code = 'INVALID_TOKEN_TRANSITION';

  constructor(from: TokenState, event: TokenEvent) {
    super('A token', from, event);
  }
}

export const nextTokenState = transitionsOf(TRANSITIONS, InvalidTokenTransitionError);
