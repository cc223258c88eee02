import { TimeoutError, withTimeout } from './timeout';

describe('withTimeout', () => {
  it('settles like the work when it is in time, and clears its timer', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    await expect(withTimeout(Promise.resolve(4), 60_000)).resolves.toBe(4);
    await expect(withTimeout(Promise.reject(new Error('boom')), 60_000)).rejects.toThrow('boom');
    // No timer left behind to hold a process open for a minute.
    expect(timers()).toBe(before);
  });

  it('rejects with a TimeoutError saying what timed out after the budget; a late rejection is not unhandled', async () => {
    await expect(withTimeout(new Promise(() => undefined), 10)).rejects.toThrow(TimeoutError);
    await expect(withTimeout(new Promise(() => undefined), 10, 'Postgres did not answer within 3 s')).rejects.toThrow('Postgres did not answer within 3 s');
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    let fail!: (error: Error) => void;
    await expect(withTimeout(new Promise((_, reject) => (fail = reject)), 10)).rejects.toThrow(TimeoutError);
    fail(new Error('too late'));
    await new Promise((resolve) => setImmediate(resolve));
    process.off('unhandledRejection', unhandled);
    expect(unhandled).not.toHaveBeenCalled();
  });
});
