import { afterFailedAppend, InvalidSentCopyTransitionError, nextSentCopyState, SENT_COPY_MAX_ATTEMPTS, sentCopyStatesTaking, sentCopyTargetOf } from './sent-copy-state';

describe('the Sent copy state machine', () => {
  it('pending → appending → appended, or back to pending for a retry, or failed', () => {
    expect(nextSentCopyState('pending', 'claim')).toBe('appending');
    expect(nextSentCopyState('appending', 'appended')).toBe('appended');
    expect(nextSentCopyState('appending', 'retry')).toBe('pending');
    expect(nextSentCopyState('appending', 'give_up')).toBe('failed');
    expect(nextSentCopyState('pending', 'skip')).toBe('not_needed');
  });

  it('a copy held by a worker that died is taken again (claim from appending)', () => {
    expect(sentCopyStatesTaking('claim')).toEqual(['pending', 'appending']);
    expect(sentCopyTargetOf('claim')).toBe('appending');
  });

  it('final states take nothing; a copy is never skipped once a worker holds it', () => {
    for (const state of ['appended', 'failed', 'not_needed'] as const) {
      for (const event of ['skip', 'claim', 'appended', 'retry', 'give_up'] as const) expect(() => nextSentCopyState(state, event)).toThrow(InvalidSentCopyTransitionError);
    }
    expect(() => nextSentCopyState('appending', 'skip')).toThrow(/A Sent copy in state appending cannot take the event skip/);
  });
});

describe('afterFailedAppend', () => {
  it('retries a transient failure with growing delays, then gives up after the last try', () => {
    const delays = [1, 2, 3, 4].map((attempts) => afterFailedAppend(attempts, { permanent: false, message: 'x' }));
    expect(delays).toEqual([
      { event: 'retry', delayMs: 30_000 },
      { event: 'retry', delayMs: 120_000 },
      { event: 'retry', delayMs: 480_000 },
      { event: 'retry', delayMs: 1_920_000 },
    ]);
    expect(afterFailedAppend(SENT_COPY_MAX_ATTEMPTS, { permanent: false, message: 'x' })).toEqual({ event: 'give_up' });
  });

  it('gives up at once when trying again cannot help (no Sent folder)', () => {
    expect(afterFailedAppend(1, { permanent: true, message: 'no Sent folder' })).toEqual({ event: 'give_up' });
  });
});
