import { CONNECTION_STATES, ConnectionState } from '@app/persistence';
import { ConnectionEvent, InvalidConnectionTransitionError, nextConnectionState } from './connection-state';

const EVENTS: ConnectionEvent[] = ['start', 'listening', 'dropped', 'auth_rejected', 'retry', 'disable', 'enable', 'release'];
const R = 'refused' as const;

/** Every (state, event) pair spelled out. */
const EXPECTED: Record<ConnectionState, Record<ConnectionEvent, ConnectionState | typeof R>> = {
  pending: { start: 'connecting', listening: R, dropped: R, auth_rejected: R, retry: R, disable: 'disabled', enable: R, release: 'pending' },
  connecting: { start: R, listening: 'connected', dropped: 'backoff', auth_rejected: 'auth_error', retry: R, disable: 'disabled', enable: R, release: 'pending' },
  connected: { start: 'connecting', listening: R, dropped: 'backoff', auth_rejected: 'auth_error', retry: R, disable: 'disabled', enable: R, release: 'pending' },
  backoff: { start: 'connecting', listening: R, dropped: R, auth_rejected: 'auth_error', retry: 'connecting', disable: 'disabled', enable: R, release: 'pending' },
  auth_error: { start: 'connecting', listening: R, dropped: R, auth_rejected: R, retry: 'connecting', disable: 'disabled', enable: R, release: 'pending' },
  disabled: { start: R, listening: R, dropped: R, auth_rejected: R, retry: R, disable: R, enable: 'pending', release: 'disabled' },
};

describe('connection state machine', () => {
  const pairs = CONNECTION_STATES.flatMap((from) => EVENTS.map((event) => [from, event, EXPECTED[from][event]] as const));

  it.each(pairs)('%s --%s--> %s', (from, event, expected) => {
    if (expected === R) expect(() => nextConnectionState(from, event)).toThrow(InvalidConnectionTransitionError);
    else expect(nextConnectionState(from, event)).toBe(expected);
  });
});
