import { TOKEN_STATES, TokenState } from '@app/persistence';
import { InvalidTokenTransitionError, nextTokenState, TokenEvent } from './token-state';

const EVENTS: TokenEvent[] = [
  'authorization_started',
  'authorization_completed',
  'authorization_failed',
  'tokens_imported',
  'refreshed',
  'refresh_failed_transiently',
  'refresh_failed_permanently',
  'deleted',
];

/** Every (state, event) pair, spelled out: a new transition must be added here on purpose. */
const EXPECTED: Record<TokenState, Record<TokenEvent, TokenState | 'refused'>> = {
  not_obtained: {
    authorization_started: 'waiting_for_authorization',
    authorization_completed: 'active',
    authorization_failed: 'refused',
    tokens_imported: 'active',
    refreshed: 'refused',
    refresh_failed_transiently: 'refused',
    refresh_failed_permanently: 'refused',
    deleted: 'not_obtained',
  },
  waiting_for_authorization: {
    authorization_started: 'waiting_for_authorization',
    authorization_completed: 'active',
    authorization_failed: 'not_obtained',
    tokens_imported: 'active',
    refreshed: 'refused',
    refresh_failed_transiently: 'refused',
    refresh_failed_permanently: 'refused',
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
    refreshed: 'refused',
    refresh_failed_transiently: 'refused',
    refresh_failed_permanently: 'refused',
    deleted: 'not_obtained',
  },
};

describe('token state machine', () => {
  const pairs = TOKEN_STATES.flatMap((from) => EVENTS.map((event) => [from, event, EXPECTED[from][event]] as const));

  it.each(pairs)('%s --%s--> %s', (from, event, expected) => {
    if (expected === 'refused') {
      expect(() => nextTokenState(from, event)).toThrow(InvalidTokenTransitionError);
    } else {
      expect(nextTokenState(from, event)).toBe(expected);
    }
  });

  it('never refreshes an invalid token: only a new grant revives it', () => {
    expect(() => nextTokenState('invalid', 'refreshed')).toThrow(/cannot take the event refreshed/);
    expect(nextTokenState('invalid', 'tokens_imported')).toBe('active');
  });
});
