import { InvalidSendTransitionError, nextSendState, statesTaking, targetOf } from './send-state';

describe('send states', () => {
  it('queued → sending → sent, retry back to queued, give up from either', () => {
    expect(nextSendState('queued', 'in_flight')).toBe('sending');
    expect(nextSendState('sending', 'accepted')).toBe('sent');
    expect(nextSendState('sending', 'retry')).toBe('queued');
    expect(nextSendState('queued', 'give_up')).toBe('failed');
    expect(nextSendState('sending', 'give_up')).toBe('failed');
  });

  it('sent and failed are final; a send is accepted only while in flight', () => {
    expect(() => nextSendState('sent', 'retry')).toThrow(InvalidSendTransitionError);
    expect(() => nextSendState('failed', 'in_flight')).toThrow(InvalidSendTransitionError);
    expect(() => nextSendState('queued', 'accepted')).toThrow(InvalidSendTransitionError);
    expect(statesTaking('accepted')).toEqual(['sending']);
    expect(targetOf('give_up')).toBe('failed');
  });
});
