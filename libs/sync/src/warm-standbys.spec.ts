import { StandbyEvent } from './imap/imap-mailbox.runner';
import { MailboxSpec } from './mailbox-spec';
import { InvalidWarmStandbyTransitionError, nextWarmStandbyState } from './warm-standby-state';
import { StandbyRunner, WarmStandbys } from './warm-standbys';

const specOf = (id: string, fingerprint = 'v1') => ({ id, fingerprint, kind: 'imap' }) as MailboxSpec;

/** A standby runner as the keeper sees it: it reports when the test says so, and records its stop. */
class FakeStandby implements StandbyRunner {
  stopped = false;

  constructor(
    readonly spec: MailboxSpec,
    readonly tell: (event: StandbyEvent) => void,
  ) {}

  async stop(): Promise<void> {
    this.stopped = true;
  }
}

function keeper(limit = 10, maxLosses = 1) {
  const started: FakeStandby[] = [];
  const counted: string[] = [];
  let ready = 0;
  const clock = { ms: 0 };
  const standbys = new WarmStandbys<FakeStandby>({
    limit,
    maxLosses,
    maxAskedMs: 60_000,
    now: () => clock.ms,
    warm: (spec, listener) => {
      const runner = new FakeStandby(spec, listener);
      started.push(runner);
      return runner;
    },
    onReady: () => ready++,
    count: (outcome, by = 1) => counted.push(...Array<string>(by).fill(outcome)),
  });
  return { standbys, started, counted, clock, readyCalls: () => ready };
}

describe('warm standby state machine', () => {
  it('follows its table and refuses what it does not take', () => {
    expect(nextWarmStandbyState('warming', 'ready')).toBe('ready');
    expect(nextWarmStandbyState('ready', 'lost')).toBe('lost');
    expect(nextWarmStandbyState('lost', 'rewarm')).toBe('warming');
    expect(nextWarmStandbyState('lost', 'give_up')).toBe('cold');
    expect(nextWarmStandbyState('asked', 'expire')).toBe('cold');
    expect(() => nextWarmStandbyState('ready', 'expire')).toThrow(InvalidWarmStandbyTransitionError);
    expect(() => nextWarmStandbyState('cold', 'ready')).toThrow(InvalidWarmStandbyTransitionError);
    expect(() => nextWarmStandbyState('warming', 'rewarm')).toThrow(/A warm standby in state warming cannot take the event rewarm/);
  });
});

describe('WarmStandbys', () => {
  it('counts the logins still ahead of a hand-over: not started, warming or lost — not ready, asked or cold', async () => {
    const { standbys, started } = keeper(2);
    const waiting = ['a', 'b', 'c', 'd'].map((id) => specOf(id));
    expect(standbys.loginsAhead(waiting)).toBe(4);
    await standbys.follow(waiting);
    expect(standbys.loginsAhead(waiting)).toBe(4);
    started[0].tell('ready');
    expect(standbys.loginsAhead(waiting)).toBe(3);
    standbys.mayAsk('a');
    expect(standbys.stateOf('a')).toBe('asked');
    started[1].tell('lost');
    expect(standbys.loginsAhead(waiting)).toBe(3);
  });

  it('asks for a lease only once its standby listens, and hands that runner over on the grant', async () => {
    const { standbys, started, counted, readyCalls } = keeper();
    await standbys.follow([specOf('a'), specOf('b')]);
    expect(started.map((runner) => runner.spec.id)).toEqual(['a', 'b']);
    expect(standbys.mayAsk('a')).toBe(false);
    started[0].tell('ready');
    expect(standbys.mayAsk('a')).toBe(true);
    expect(standbys.stateOf('a')).toBe('asked');
    expect(standbys.mayAsk('b')).toBe(false);
    expect(readyCalls()).toBe(1);
    expect(standbys.take('a')).toBe(started[0]);
    expect(standbys.stateOf('a')).toBeUndefined();
    expect(started[0].stopped).toBe(false);
    expect(counted).toEqual(['ready', 'activated']);
  });

  it('a grant while still warming hands the runner over too (it connects cold on activation)', async () => {
    const { standbys, started } = keeper();
    await standbys.follow([specOf('a')]);
    expect(standbys.take('a')).toBe(started[0]);
  });

  it('keeps at most `limit` standbys warming at once; the next start as earlier ones are ready', async () => {
    const { standbys, started } = keeper(2);
    const waiting = [specOf('a'), specOf('b'), specOf('c'), specOf('d')];
    await standbys.follow(waiting);
    expect(started.map((runner) => runner.spec.id)).toEqual(['a', 'b']);
    expect(standbys.mayAsk('c')).toBe(false);
    started[0].tell('ready');
    await standbys.follow(waiting);
    expect(started.map((runner) => runner.spec.id)).toEqual(['a', 'b', 'c']);
    expect(standbys.warming).toBe(2);
    standbys.take('a');
    await standbys.follow(waiting.slice(1));
    expect(started.map((runner) => runner.spec.id)).toEqual(['a', 'b', 'c']);
  });

  it('keeps at most `limit` hand-overs asked for and not yet granted; ready standbys beyond wait listening', async () => {
    const { standbys, started } = keeper(2);
    const waiting = [specOf('a'), specOf('b'), specOf('c')];
    await standbys.follow(waiting);
    started[0].tell('ready');
    started[1].tell('ready');
    await standbys.follow(waiting);
    started[2].tell('ready');
    expect(waiting.map((spec) => standbys.mayAsk(spec.id))).toEqual([true, true, false]);
    expect(standbys.stateOf('c')).toBe('ready');
    // Asked ones stay asked (a round asks again harmlessly); a grant makes room for the next.
    expect(standbys.mayAsk('a')).toBe(true);
    standbys.take('a');
    expect(standbys.mayAsk('c')).toBe(true);
    expect(standbys.stateOf('c')).toBe('asked');
  });

  it('closes the standby of a mailbox no longer waited for, or whose settings changed', async () => {
    const { standbys, started, counted } = keeper();
    await standbys.follow([specOf('a'), specOf('b')]);
    await standbys.follow([specOf('b', 'v2')]);
    expect(started[0].stopped).toBe(true);
    expect(started[1].stopped).toBe(true);
    // The changed one warms again with its new settings.
    expect(started.map((runner) => `${runner.spec.id}:${runner.spec.fingerprint}`)).toEqual(['a:v1', 'b:v1', 'b:v2']);
    started[1].tell('ready');
    expect(standbys.mayAsk('b')).toBe(false);
    expect(counted).toEqual(['closed', 'closed']);
  });

  it('warms a lost standby again, and after too many losses asks for the lease without one', async () => {
    const { standbys, started, counted } = keeper(10, 1);
    await standbys.follow([specOf('a')]);
    started[0].tell('ready');
    started[0].tell('lost');
    expect(standbys.stateOf('a')).toBe('lost');
    expect(standbys.mayAsk('a')).toBe(false);
    await standbys.follow([specOf('a')]);
    expect(started).toHaveLength(2);
    expect(standbys.stateOf('a')).toBe('warming');
    started[1].tell('lost');
    await standbys.follow([specOf('a')]);
    expect(started).toHaveLength(2);
    expect(standbys.stateOf('a')).toBe('cold');
    expect(standbys.mayAsk('a')).toBe(true);
    expect(standbys.take('a')).toBeUndefined();
    expect(counted).toEqual(['ready', 'lost', 'lost', 'given_up']);
  });

  it('closeAll closes every standby, and their late news changes nothing', async () => {
    const { standbys, started, readyCalls } = keeper();
    await standbys.follow([specOf('a'), specOf('b')]);
    await standbys.closeAll();
    expect(started.every((runner) => runner.stopped)).toBe(true);
    started[0].tell('ready');
    expect(standbys.mayAsk('a')).toBe(false);
    expect(readyCalls()).toBe(0);
  });

  it('an ask the live owner never grants expires: the standby closes, its slot in transit frees, the lease stays asked for cold', async () => {
    const { standbys, started, counted, clock } = keeper(1);
    await standbys.follow([specOf('a'), specOf('b')]);
    started[0].tell('ready');
    expect(standbys.mayAsk('a')).toBe(true);
    await standbys.follow([specOf('a'), specOf('b')]);
    started[1].tell('ready');
    // One hand-over in transit at most: b waits behind a.
    expect(standbys.mayAsk('b')).toBe(false);

    clock.ms += 59_999;
    await standbys.follow([specOf('a'), specOf('b')]);
    expect(standbys.stateOf('a')).toBe('asked');
    expect(started[0].stopped).toBe(false);

    clock.ms += 1;
    await standbys.follow([specOf('a'), specOf('b')]);
    expect(standbys.stateOf('a')).toBe('cold');
    expect(started[0].stopped).toBe(true);
    expect(standbys.mayAsk('a')).toBe(true);
    expect(standbys.mayAsk('b')).toBe(true);
    expect(counted.filter((outcome) => outcome === 'expired')).toHaveLength(1);
    // A late word from the stopped runner changes nothing; the grant, if it comes, starts a runner cold.
    started[0].tell('lost');
    expect(standbys.stateOf('a')).toBe('cold');
    expect(standbys.take('a')).toBeUndefined();
  });
});
