import { InvalidTransitionError, TransitionTable, transitionsOf } from './transition-table';

type Light = 'off' | 'on';
type Switch = 'press' | 'unplug';

class InvalidLightTransitionError extends InvalidTransitionError<Light, Switch> {
  readonly code = 'INVALID_LIGHT_TRANSITION';

  constructor(from: Light, event: Switch) {
    super('A light', from, event);
  }
}

const TABLE: TransitionTable<Light, Switch> = { off: { press: 'on' }, on: { press: 'off', unplug: 'off' } };
const nextLight = transitionsOf(TABLE, InvalidLightTransitionError);

describe('transitionsOf', () => {
  it('follows the table', () => {
    expect(nextLight('off', 'press')).toBe('on');
    expect(nextLight('on', 'unplug')).toBe('off');
  });

  it("throws the machine's own error, with its code, name and message, for an event the state does not take", () => {
    let thrown: unknown;
    try {
      nextLight('off', 'unplug');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidLightTransitionError);
    expect(thrown).toBeInstanceOf(InvalidTransitionError);
    expect(thrown).toMatchObject({ code: 'INVALID_LIGHT_TRANSITION', name: 'InvalidLightTransitionError', from: 'off', event: 'unplug' });
    expect((thrown as Error).message).toBe('A light in state off cannot take the event unplug');
  });
});
