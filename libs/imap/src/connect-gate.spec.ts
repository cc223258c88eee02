import { ConnectGate } from './connect-gate';
import { ConnectRamp } from './connect-ramp';

/** An attempt that stays in flight until finished by hand, and records when it started. */
class Attempts {
  readonly started: string[] = [];
  private readonly finishers = new Map<string, (error?: Error) => void>();

  of(name: string): () => Promise<void> {
    return () => {
      this.started.push(name);
      return new Promise<void>((resolve, reject) => this.finishers.set(name, (error) => (error ? reject(error) : resolve())));
    };
  }

  finish(name: string, error?: Error): void {
    this.finishers.get(name)!(error);
  }
}

const now = (): number => Date.now();
const ramp = (ratePerSecond: number, burst = ratePerSecond): ConnectRamp => new ConnectRamp(ratePerSecond, burst, now);
/** Lets the microtasks of settled attempts (slot freed, next one started) run. */
const settle = (): Promise<void> => new Promise((resolve) => jest.requireActual<typeof import('timers')>('timers').setImmediate(resolve));

describe('ConnectGate', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('gives a free slot to another host while the first host waits for its ramp (no waiter sits on a slot)', () => {
    const gate = new ConnectGate(4, { live: ramp(2), standby: ramp(2) });
    const attempts = new Attempts();
    for (let i = 0; i < 12; i += 1) void gate.run('live', 'busy.example', attempts.of(`busy${i}`));
    void gate.run('live', 'other.example', attempts.of('other'));
    // busy.example's burst of 2 started; the other host's first login did not queue behind its 10 waiters.
    expect(attempts.started).toEqual(['busy0', 'busy1', 'other']);
    expect(gate.waiting).toBe(10);
    expect(gate.pending).toBe(13);
    jest.advanceTimersByTime(500);
    expect(attempts.started).toEqual(['busy0', 'busy1', 'other', 'busy2']);
    gate.close();
  });

  it('keeps a cold login of a host apart from the standby logins of that host waiting for the hand-over ramp', () => {
    const gate = new ConnectGate(4, { live: ramp(200), standby: ramp(1) });
    const attempts = new Attempts();
    for (let i = 0; i < 8; i += 1) void gate.run('standby', 'imap.example', attempts.of(`standby${i}`));
    void gate.run('live', 'imap.example', attempts.of('taken-over'));
    expect(attempts.started).toEqual(['standby0', 'taken-over']);
    gate.close();
  });

  it('never lets more than its slots run, and a freed slot goes to the longest waiter', async () => {
    const gate = new ConnectGate(2, { live: ramp(1000), standby: ramp(1000) });
    const attempts = new Attempts();
    const runs = ['a', 'b', 'c', 'd'].map((name, i) => gate.run('live', `host${i % 2}`, attempts.of(name)));
    expect(attempts.started).toEqual(['a', 'b']);
    attempts.finish('b');
    await runs[1];
    await settle();
    expect(attempts.started).toEqual(['a', 'b', 'c']);
    attempts.finish('a');
    attempts.finish('c');
    await settle();
    expect(attempts.started).toEqual(['a', 'b', 'c', 'd']);
    gate.close();
  });

  it('paces one host at its rate while slots are free', () => {
    const gate = new ConnectGate(10, { live: ramp(10, 1), standby: ramp(10, 1) });
    const attempts = new Attempts();
    for (const name of ['first', 'second', 'third']) void gate.run('live', 'imap.example', attempts.of(name));
    expect(attempts.started).toEqual(['first']);
    jest.advanceTimersByTime(99);
    expect(attempts.started).toEqual(['first']);
    jest.advanceTimersByTime(1);
    expect(attempts.started).toEqual(['first', 'second']);
    jest.advanceTimersByTime(100);
    expect(attempts.started).toEqual(['first', 'second', 'third']);
    gate.close();
  });

  it('serves its waiters at a lane’s new rate at once', () => {
    const gate = new ConnectGate(10, { live: ramp(200), standby: ramp(1, 1) });
    const attempts = new Attempts();
    void gate.run('standby', 'imap.example', attempts.of('first'));
    void gate.run('standby', 'imap.example', attempts.of('second'));
    jest.advanceTimersByTime(10);
    expect(attempts.started).toEqual(['first']); // 990 ms away at 1/s
    gate.setRate('standby', 100); // the next token 10 ms away now
    jest.advanceTimersByTime(10);
    expect(attempts.started).toEqual(['first', 'second']);
    gate.close();
  });

  it('drops a waiting attempt whose signal aborts: it never runs, its caller returns, the next one goes on', async () => {
    const gate = new ConnectGate(1, { live: ramp(1000), standby: ramp(1000) });
    const attempts = new Attempts();
    void gate.run('live', 'imap.example', attempts.of('running'));
    const replaced = new AbortController();
    const dropped = gate.run('live', 'imap.example', attempts.of('replaced'), replaced.signal);
    void gate.run('live', 'imap.example', attempts.of('newer'));
    replaced.abort();
    await dropped;
    expect(gate.waiting).toBe(1);
    attempts.finish('running');
    await settle();
    expect(attempts.started).toEqual(['running', 'newer']);
    gate.close();
  });

  it('hands an attempt’s failure to its caller and frees the slot', async () => {
    const gate = new ConnectGate(1, { live: ramp(1000), standby: ramp(1000) });
    const attempts = new Attempts();
    const failing = gate.run('live', 'imap.example', attempts.of('failing'));
    void gate.run('live', 'imap.example', attempts.of('next'));
    attempts.finish('failing', new Error('database unreachable'));
    await expect(failing).rejects.toThrow('database unreachable');
    await settle();
    expect(attempts.started).toEqual(['failing', 'next']);
    gate.close();
  });

  it('once closed, drops what waits and runs nothing new', async () => {
    const gate = new ConnectGate(1, { live: ramp(1000), standby: ramp(1000) });
    const attempts = new Attempts();
    void gate.run('live', 'imap.example', attempts.of('running'));
    const waiting = gate.run('live', 'imap.example', attempts.of('waiting'));
    gate.close();
    await waiting;
    await gate.run('live', 'imap.example', attempts.of('late'));
    attempts.finish('running');
    await settle();
    expect(attempts.started).toEqual(['running']);
    expect(gate.waiting).toBe(0);
  });

  it('refuses a slot count that is not a positive integer', () => {
    expect(() => new ConnectGate(0, { live: ramp(1), standby: ramp(1) })).toThrow(RangeError);
  });
});
