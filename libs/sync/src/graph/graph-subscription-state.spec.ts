import { GRAPH_SUBSCRIPTION_STATES, GraphSubscriptionEvent, InvalidGraphSubscriptionTransitionError, nextGraphSubscriptionState } from './graph-subscription-state';

describe('Graph subscription state machine', () => {
  it.each([
    ['none', 'adopt', 'active'],
    ['none', 'create', 'creating'],
    ['none', 'poll', 'polling'],
    ['creating', 'created', 'active'],
    ['creating', 'failed', 'failed'],
    ['active', 'renew', 'renewing'],
    ['renewing', 'renewed', 'active'],
    ['renewing', 'removed', 'removed'],
    ['renewing', 'failed', 'failed'],
    ['active', 'reauthorization_required', 'reauthorization_required'],
    ['reauthorization_required', 'renewed', 'active'],
    ['reauthorization_required', 'renew', 'renewing'],
    ['active', 'removed', 'removed'],
    ['removed', 'create', 'creating'],
    ['failed', 'create', 'creating'],
    ['failed', 'renew', 'renewing'],
  ] as const)('%s + %s → %s', (from, event, to) => {
    expect(nextGraphSubscriptionState(from, event)).toBe(to);
  });

  it('close ends every state', () => {
    for (const state of GRAPH_SUBSCRIPTION_STATES) expect(nextGraphSubscriptionState(state, 'close')).toBe('none');
  });

  it.each([
    ['none', 'created'],
    ['active', 'create'],
    ['polling', 'create'],
    ['polling', 'renew'],
    ['removed', 'renewed'],
    ['creating', 'renew'],
  ] as [typeof GRAPH_SUBSCRIPTION_STATES[number], GraphSubscriptionEvent][])('refuses %s + %s', (from, event) => {
    expect(() => nextGraphSubscriptionState(from, event)).toThrow(InvalidGraphSubscriptionTransitionError);
  });
});
