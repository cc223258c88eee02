import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { withTimeout } from '@app/async';
import { REDIS_AWAY_CLOSE_MS } from '@app/queues';
import { RedisServer } from '@app/testing';

/**
 * A real process (built code, as the apps run it) closes the classes @nestjs/bullmq instantiates for us
 * (@app/queues) while Redis is away and a job is in progress. BullMQ's own Worker.close() waits for that
 * job, and the job waits for a command sitting in ioredis' offline queue: it never settles, and Nest's
 * shutdown hooks, which await it, would turn a SIGTERM into the grace timer's exit 1 (run this with
 * bullmq's Worker in place of BoundedWorker: the process never reports). A process, because what a close
 * that gave up leaves behind (BullMQ's timers) would keep jest from exiting; the apps exit after the close.
 * Runs on a private redis-server that the test stops; the shared Redis is never touched.
 */
const CHILD = `
const { BoundedFlowProducer, BoundedQueue, BoundedWorker, closeWithinMs } = require(${JSON.stringify(join(__dirname, '..', 'dist/libs/queues/src'))});
const Redis = require('ioredis');
const lines = require('node:readline').createInterface({ input: process.stdin });
const next = () => new Promise((resolve) => lines.once('line', resolve));
const say = (line) => process.stdout.write(line + '\\n');
(async () => {
  const redis = new Redis(process.argv[1], { maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
  const queue = new BoundedQueue('bounded', { connection: redis, prefix: 'spec' });
  const flows = new BoundedFlowProducer({ connection: redis, prefix: 'spec' });
  const worker = new BoundedWorker('bounded', async () => {
    say('taken');
    await next(); // Redis is gone now
    await queue.add('inner', {});
  }, { connection: redis, prefix: 'spec', ...closeWithinMs(500) });
  for (const emitter of [queue, flows, worker]) emitter.on('error', () => undefined);
  await queue.add('outer', {});
  await next();
  // Closed once the client has seen Redis go (as at a real SIGTERM long after): the away bound applies.
  while (redis.status === 'ready') await new Promise((resolve) => setTimeout(resolve, 10));
  void flows.addBulk([{ name: 'offline', queueName: 'bounded', data: {} }]).catch(() => undefined);
  const started = Date.now();
  const first = worker.close();
  const same = worker.close() === first; // Nest's close at shutdown awaits the very same bounded close
  await first;
  await Promise.all([queue.close(), flows.close()]);
  say(JSON.stringify({ closedMs: Date.now() - started, same }));
  process.exit(0);
})();
`;

describe('bounded BullMQ classes (real process, private Redis stopped mid-job)', () => {
  let server: RedisServer;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await server.stop();
  });

  it('a worker whose job waits on Redis, a queue and a flow producer close within their bounds', async () => {
    const proc = spawn(process.execPath, ['-e', CHILD, server.url], { stdio: ['pipe', 'pipe', 'inherit'] });
    child = proc;
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
    const line = async () => {
      const next = await lines.next();
      if (next.done) throw new Error('the process ended its output without a report');
      return String(next.value);
    };
    expect(await line()).toBe('taken');
    await server.stop();
    proc.stdin!.write('go\n'); // the job goes on to an add that waits for Redis
    proc.stdin!.write('close\n');
    const said: string[] = [];
    // An unbounded close never reports: fail on that, rather than on jest's timeout.
    await withTimeout(
      (async () => {
        while (!said.at(-1)?.startsWith('{')) said.push(await line());
      })(),
      20_000,
      'the process did not get past its closes',
    );
    // The bound is what ended the worker's close (BullMQ's own was still waiting for the job); with Redis
    // away it is REDIS_AWAY_CLOSE_MS, not the worker's own 500 ms: nothing it waits for can come.
    expect(said.some((text) => text.includes(`bounded worker: not closed within ${REDIS_AWAY_CLOSE_MS} ms`))).toBe(true);
    const report = JSON.parse(said.at(-1)!) as { closedMs: number; same: boolean };
    expect(report.same).toBe(true);
    expect(await exited).toBe(0);
  }, 40_000);
});
