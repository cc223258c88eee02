import { ConnectionState } from '@app/persistence';
import { InvalidTransitionError, TransitionTable, transitionsOf } from '@app/state-machine';

/** What happens to a mailbox's connection. */
export type ConnectionEvent =
  | 'start' // a listener took the mailbox and begins connecting
  | 'listening' // every folder is selected, caught up and idling
  | 'dropped' // network failure or server closed the connection
  | 'auth_rejected' // the server (or the token state) refused the login
  | 'retry' // backoff over: connect again
  | 'disable' // disabled through the API, or after too long in auth_error
  | 'enable' // enabled again: wait for a listener
  | 'release'; // the listener let the mailbox go (shutdown, deleted)

/**
 * The connection state machine, in one table: the listener's reports and the API's enable/disable both
 * move a mailbox's status row through it (MailboxStatusWriter), so neither can put the row where the other
 * does not expect it.
 */
const TRANSITIONS: TransitionTable<ConnectionState, ConnectionEvent> = {
  pending: { start: 'connecting', disable: 'disabled', release: 'pending' },
  connecting: { listening: 'connected', dropped: 'backoff', auth_rejected: 'auth_error', disable: 'disabled', release: 'pending' },
  connected: { dropped: 'backoff', auth_rejected: 'auth_error', start: 'connecting', disable: 'disabled', release: 'pending' },
  backoff: { start: 'connecting', retry: 'connecting', auth_rejected: 'auth_error', disable: 'disabled', release: 'pending' },
  auth_error: { start: 'connecting', retry: 'connecting', disable: 'disabled', release: 'pending' },
  disabled: { enable: 'pending', release: 'disabled' },
};

export class InvalidConnectionTransitionError extends InvalidTransitionError<ConnectionState, ConnectionEvent> {
  readonly code = 'INVALID_CONNECTION_TRANSITION';

  constructor(from: ConnectionState, event: ConnectionEvent) {
    super('A mailbox', from, event);
  }
}

export const nextConnectionState = transitionsOf(TRANSITIONS, InvalidConnectionTransitionError);
