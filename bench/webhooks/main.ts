/**
 * Webhook delivery: `--events` (10,000) `mail.received` events fanned out to 3 local endpoints that answer
 * in `--answer-ms` (5 ms); the third hangs `--hang-ms` (10 s) on `--hang-share` (10 %) of its calls.
 *
 *   npm run bench:webhooks -- [--events=10000] [--rate=0] [--batch=100] [--answer-ms=5] [--hang-ms=10000] [--hang-share=0.1] [--floor=0: skip the floor] [--floor-per-url=10000]
 *
 * Creates a database, starts the built API and ONE listener (the delivering process) as processes of their
 * own (NODE_ENV=production, so every connection passes the outbound policy, 127.0.0.0/8 allow-listed),
 * registers the endpoints through the API, then publishes through MailEventsPublisher (the same one MULTI
 * per batch the listener uses) in batches of `--batch`, as fast as Redis takes them (`--rate=0`) or at
 * `--rate` events/s. Prints deliveries/s (2xx answers, all endpoints, first publish → last delivery on the
 * healthy endpoints), event published → webhook received p50/p99 on the healthy endpoints, the slow
 * endpoint's progress (its hung calls are retried with the production backoff, so its tail takes minutes:
 * reported after --slow-wait=30 s, not awaited), and the delivering process's peak RSS.
 * Then, the physical floor (floor.ts) in a process of its own against the same healthy receivers: plain
 * keep-alive POSTs of the signed payload, bare BullMQ jobs with an empty processor, and both together
 * (`stack`); the ratio of our deliveries/s (and CPU per request) to the stack's is printed.
 * WEBHOOK_* variables in the environment are passed to the listener (e.g. WEBHOOK_ENDPOINT_CONCURRENCY).
 * BENCH_LISTENER_HEAP_COMPACTION=v8-default runs the listener with V8's own compaction heuristics;
 * BENCH_LISTENER_NODE_OPTIONS sets its NODE_OPTIONS; BENCH_LISTENER_CPU_PROFILE=DIR profiles it (DIR/<build>/listener-<pid>.cpuprofile, written when it is stopped).
 * The delivering process's Redis commands (count-redis.ts) and Postgres statements (../send/count-statements.ts)
 * are counted from its start to its stop and reported per request it made: the figures a loaded machine does not blur.
 * BENCH_BASE_ROOT=DIR (a copy of another build: DIR/dist, DIR/node_modules linked) with `--builds=base,this,base,this`:
 * rounds (each with a fresh database, queue prefix, API and listener) run the listener of that build or of
 * this one, interleaved, to compare within one run; the floor runs once, after the last round.
 * Needs Postgres (DATABASE_URL) and Redis (REDIS_URL); the npm script builds first.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { cpus, tmpdir, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { FlowProducer } from 'bullmq';
import Redis from 'ioredis';
import { AppConfig } from '@app/config';
import { MailEventsPublisher } from '@app/events';
import { createTestDatabase, ENTRY_POINTS, queryDatabase, freePort, sampleMailReceived, startAppProcess, waitForHttpOk } from '@app/testing';
import { cpuSeconds, rssMb } from '../imap-idle/proc-stats';
import { numberArg, textArg } from '../args';

/** startAppProcess resolves entry points from the repository root; compiled here it sits one level deeper (dist-bench/). */
const entry = (path: string) => join('..', path);

const EVENTS = numberArg('events', 10_000);
/** A second build to run rounds with (--builds=base,this,…): the figures before a change, in the same run. */
const BASE_ROOT = process.env.BENCH_BASE_ROOT;
const RATE = numberArg('rate', 0);
const BATCH = numberArg('batch', 100);
const ANSWER_MS = numberArg('answer-ms', 5);
const HANG_MS = numberArg('hang-ms', 10_000);
const HANG_SHARE = numberArg('hang-share', 0.1);

interface Endpoint {
  name: string;
  server: Server;
  url: string;
  /** First 2xx receipt per event id. */
  delivered: Map<string, number>;
  requests: number;
}

async function endpoint(name: string, hangShare: number): Promise<Endpoint> {
  const ep: Endpoint = { name, server: createServer(), url: '', delivered: new Map(), requests: 0 };
  ep.server.on('request', (request, response) => {
    request.resume();
    request.on('end', () => {
      ep.requests += 1;
      const id = String(request.headers['webhook-id']);
      const at = Date.now();
      const hang = Math.random() < hangShare;
      setTimeout(
        () => {
          if (!ep.delivered.has(id) && !hang) ep.delivered.set(id, at);
          response.statusCode = 200;
          response.end();
        },
        hang ? HANG_MS : ANSWER_MS,
      );
    });
  });
  ep.server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => ep.server.listen(0, '127.0.0.1', resolve));
  ep.url = `http://127.0.0.1:${(ep.server.address() as AddressInfo).port}/hooks/${name}`;
  return ep;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

/** Committed transactions on a database so far (pg_stat_database; the statistics lag by up to ~0.5 s). */
async function transactions(url: string): Promise<number> {
  const [row] = await queryDatabase<{ n: string }>(url, `SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()`);
  return Number(row.n);
}

/** MB of Redis memory held by each queue under `prefix` (the endpoint queues summed as webhook-deliveries). */
async function redisMemoryByQueue(url: string, prefix: string): Promise<Record<string, number>> {
  const redis = new Redis(url);
  const bytes: Record<string, number> = {};
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
    const sizes = (await pipeline.exec()) ?? [];
    keys.forEach((key, i) => {
      const queue = key.slice(prefix.length + 1).split(':')[0].replace(/^webhook-deliveries\..*/, 'webhook-deliveries');
      bytes[queue] = (bytes[queue] ?? 0) + Number(sizes[i]?.[1] ?? 0);
    });
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
  return Object.fromEntries(Object.entries(bytes).map(([queue, n]) => [queue, Number((n / 1048576).toFixed(1))]));
}

interface FloorFigure {
  mode: 'http' | 'bullmq' | 'stack';
  operations: number;
  perSecond: number;
  cpuMsPerOperation: number;
}

/** Runs floor.js (see there) and reads its figures. */
function measureFloor(urls: string[], slots: number, redisUrl: string, prefix: string): Promise<FloorFigure[]> {
  const args = [join(__dirname, 'floor.js'), `--urls=${urls.join(',')}`, `--per-url=${numberArg('floor-per-url', 10_000)}`, `--slots=${slots}`, `--redis=${redisUrl}`, `--prefix=${prefix}`];
  return new Promise((resolve, reject) =>
    execFile(process.execPath, args, { env: { PATH: process.env.PATH, NODE_ENV: 'production' }, maxBuffer: 1 << 20 }, (error, stdout, stderr) =>
      error ? reject(new Error(`floor.js: ${error.message}\n${stderr}`)) : resolve(stdout.trim().split('\n').map((line) => JSON.parse(line) as FloorFigure)),
    ),
  );
}

/** Which listener build a round runs: this checkout's, or BENCH_BASE_ROOT's (the figures before a change). */
type Build = 'this' | 'base';

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/**
 * One run: a fresh database and queue prefix, the API (this build) and one listener of `build`, the
 * endpoints registered, `EVENTS` published. Leaves the endpoints' receivers open (the floor uses them).
 */
async function round(build: Build): Promise<{ figures: Record<string, unknown>; endpoints: Endpoint[]; cpuMsPerRequest: number; deliveriesPerSecond: number; finish: () => Promise<void> }> {
  const db = await createTestDatabase();
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const queuePrefix = `bench-hooks-${randomBytes(4).toString('hex')}`;
  const apiPort = await freePort();
  // freePort closes the port it found: ask again until the second one differs.
  let listenerPort = await freePort();
  while (listenerPort === apiPort) listenerPort = await freePort();
  const apiKey = 'bench-api-key-0123456789';
  const env: NodeJS.ProcessEnv = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: queuePrefix,
    API_KEYS: apiKey,
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    DATA_DIR: mkdtempSync(join(tmpdir(), 'ml-bench-hooks-')),
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    LISTENER_PORT: String(listenerPort),
    OUTBOUND_ALLOWED_NETWORKS: '127.0.0.0/8',
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('WEBHOOK_'))),
    ...(process.env.BENCH_LISTENER_HEAP_COMPACTION ? { LISTENER_HEAP_COMPACTION: process.env.BENCH_LISTENER_HEAP_COMPACTION } : {}),
  };
  // The listener's Redis commands and Postgres statements are counted (count-redis.ts, ../send/count-statements.ts).
  const countsDir = mkdtempSync(join(tmpdir(), 'ml-bench-hooks-counts-'));
  const redisCommandsFile = join(countsDir, 'redis.json');
  const statementsFile = join(countsDir, 'statements.json');
  const preload = [join(__dirname, 'count-redis.js'), join(__dirname, '..', 'send', 'count-statements.js')];
  // BENCH_LISTENER_CPU_PROFILE=DIR profiles the delivering process only (see cpu-profile.ts).
  const profileDir = process.env.BENCH_LISTENER_CPU_PROFILE;
  if (profileDir) preload.push(join(__dirname, 'cpu-profile.js'));
  // BENCH_LISTENER_NODE_OPTIONS: NODE_OPTIONS of the delivering process only (e.g. --max-semi-space-size=32).
  const nodeOptions = [process.env.BENCH_LISTENER_NODE_OPTIONS, ...preload.map((file) => `--require ${file}`)].filter(Boolean).join(' ');
  const listenerEnv = {
    ...env,
    NODE_OPTIONS: nodeOptions,
    BENCH_REDIS_COMMANDS_FILE: redisCommandsFile,
    BENCH_STATEMENTS_FILE: statementsFile,
    ...(profileDir ? { BENCH_CPU_PROFILE_DIR: join(profileDir, build) } : {}),
  };
  if (profileDir) mkdirSync(join(profileDir, build), { recursive: true });
  const api = startAppProcess(entry(ENTRY_POINTS.api), env);
  await waitForHttpOk(`http://127.0.0.1:${apiPort}/health/ready`, api);
  // BENCH_BASE_ROOT: a copy of another build (its dist/, node_modules linked) to compare within one run.
  const script = build === 'base' ? relative(join(__dirname, '..', '..'), join(BASE_ROOT!, ENTRY_POINTS.listener)) : entry(ENTRY_POINTS.listener);
  const listener = startAppProcess(script, listenerEnv);
  await waitForHttpOk(`http://127.0.0.1:${listenerPort}/health/ready`, listener);
  const endpoints = [await endpoint('a', 0), await endpoint('b', 0), await endpoint('slow', HANG_SHARE)];
  for (const ep of endpoints) {
    const res = await fetch(`http://127.0.0.1:${apiPort}/v1/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: ep.url, events: ['mail.received'] }),
    });
    if (res.status !== 201) throw new Error(`registering ${ep.url}: ${res.status} ${await res.text()}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 2_000)); // the listener re-reads endpoints every second

  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const flows = new FlowProducer({ connection: redis, prefix: queuePrefix });
  const publisher = new MailEventsPublisher(flows, { queuePrefix } as AppConfig);
  const publishedAt = new Map<string, number>();
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(listener.child.pid!))), 200);
  const rssBefore = rssMb(listener.child.pid!);
  const load = loadavg()[0];

  const cpuBefore = cpuSeconds(listener.child.pid!);
  const transactionsBefore = await transactions(db.url);
  const started = Date.now();
  for (let sent = 0; sent < EVENTS; sent += BATCH) {
    const events = Array.from({ length: Math.min(BATCH, EVENTS - sent) }, () => sampleMailReceived({ subject: 'Quarterly numbers' }));
    const at = Date.now();
    for (const event of events) publishedAt.set(event.id, at);
    await publisher.publishMany(events);
    if (RATE > 0) {
      const due = started + ((sent + events.length) / RATE) * 1000;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    }
  }
  const publishedIn = Date.now() - started;
  const healthy = endpoints.slice(0, 2);
  const deadline = Date.now() + numberArg('max-seconds', 300) * 1000;
  const progress = setInterval(() => process.stderr.write(`[${build}] delivered ${endpoints.map((ep) => `${ep.name}=${ep.delivered.size}/${ep.requests}`).join(' ')} after ${Date.now() - started} ms\n`), 5_000);
  while (healthy.some((ep) => ep.delivered.size < EVENTS) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  const healthyDoneAt = Math.max(...healthy.flatMap((ep) => [...ep.delivered.values()]));
  const deliveredWhileHealthy = endpoints.reduce((sum, ep) => sum + [...ep.delivered.values()].filter((at) => at <= healthyDoneAt).length, 0);
  const latencies = healthy.flatMap((ep) => [...ep.delivered].map(([id, at]) => at - publishedAt.get(id)!)).sort((a, b) => a - b);
  const slowAtHealthyDone = endpoints[2].delivered.size;
  // CPU the delivering process spent per request it made (all endpoints, hung ones included) up to now.
  const cpuUsed = cpuSeconds(listener.child.pid!) - cpuBefore;
  const requestsSoFar = endpoints.reduce((sum, ep) => sum + ep.requests, 0);
  // Postgres transactions (statements: all autocommit) on the bench's database meanwhile, per request.
  const transactionsUsed = (await transactions(db.url)) - transactionsBefore;
  // Of which reads of webhook_endpoints (the fan-out reads the subscriptions once per turn, reconcile every second).
  const [endpointReads] = await queryDatabase<{ n: string }>(db.url, `SELECT seq_scan AS n FROM pg_stat_user_tables WHERE relname = 'webhook_endpoints'`);
  // The slow endpoint's hung calls time out after 10 s and are retried with backoff (5 s, doubling): its
  // tail takes minutes by design. It is reported, not waited for beyond --slow-wait seconds.
  const slowDeadline = Math.min(deadline, Date.now() + numberArg('slow-wait', 30) * 1000);
  while (endpoints[2].delivered.size < EVENTS && Date.now() < slowDeadline) await new Promise((resolve) => setTimeout(resolve, 100));
  const allDoneAt = Date.now();
  clearInterval(sampler);
  clearInterval(progress);

  const seconds = (healthyDoneAt - started) / 1000;
  const deliveriesPerSecond = Math.round(deliveredWhileHealthy / seconds);
  const healthyDelivered = healthy.map((ep) => ep.delivered.size);
  await listener.stop();
  // Everything the listener sent from its start to its stop, per request it made by then.
  const requestsAtStop = endpoints.reduce((sum, ep) => sum + ep.requests, 0);
  const redisCommands = readJson<{ commands: number; byCommand: Record<string, number> }>(redisCommandsFile);
  const statements = readJson<Record<string, number>>(statementsFile);
  const statementCount = statements ? Object.values(statements).reduce((a, b) => a + b, 0) : NaN;
  const perRequest = (n: number) => Number((n / requestsAtStop).toFixed(3));
  const redisMemory = await redisMemoryByQueue(redisUrl, queuePrefix);
  const cpuMsPerRequest = (cpuUsed * 1000) / requestsSoFar;
  const figures = {
    build,
    events: EVENTS,
    rate: RATE || 'burst',
    batch: BATCH,
    publishedInMs: publishedIn,
    deliveriesPerSecond,
    healthyEndpoints: {
      delivered: healthyDelivered,
      allDeliveredAfterMs: healthyDoneAt - started,
      latencyMs: { p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] },
    },
    slowEndpoint: { deliveredWhenHealthyDone: slowAtHealthyDone, delivered: endpoints[2].delivered.size, requests: endpoints[2].requests, afterMs: allDoneAt - started },
    deliveringProcessCpu: { seconds: Number(cpuUsed.toFixed(2)), msPerRequest: Number(cpuMsPerRequest.toFixed(3)) },
    postgresTransactions: { total: transactionsUsed, perRequest: Number((transactionsUsed / requestsSoFar).toFixed(3)), endpointTableScansSinceStart: Number(endpointReads.n) },
    // Start to stop of the listener (start-up and background work included), per request it made.
    listenerRedisCommands: redisCommands ? { perRequest: perRequest(redisCommands.commands), byCommandPerRequest: Object.fromEntries(Object.entries(redisCommands.byCommand).map(([name, n]) => [name, perRequest(n)])) } : null,
    listenerPostgresStatements: statements ? { perRequest: perRequest(statementCount), byWordPerRequest: Object.fromEntries(Object.entries(statements).map(([name, n]) => [name, perRequest(n)])) } : null,
    requestsAtStop,
    // What the run left in Redis (MEMORY USAGE of every key under the prefix, by queue): mail-events holds
    // the events (no consumer in the bench), webhook-fanout what its dedup keeps, the endpoint queues their
    // completed deliveries (kept 24 h for the retry API) and the slow endpoint's pending ones.
    redisMemoryMb: redisMemory,
    deliveringProcessRssMb: { before: Math.round(rssBefore), peak: Math.round(peakRss) },
    loadAverage1mAtStart: load,
  };
  const finish = async () => {
    await flows.close();
    redis.disconnect();
    await api.stop();
    for (const ep of endpoints) {
      ep.server.closeAllConnections();
      ep.server.close();
    }
    const cleanup = new Redis(redisUrl);
    let cursor = '0';
    do {
      const [next, keys] = await cleanup.scan(cursor, 'MATCH', `${queuePrefix}:*`, 'COUNT', 1000);
      if (keys.length) await cleanup.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    cleanup.disconnect();
    await db.drop();
  };
  return { figures, endpoints, cpuMsPerRequest, deliveriesPerSecond, finish };
}

async function main(): Promise<void> {
  const builds = textArg('builds', 'this').split(',') as Build[];
  if (builds.includes('base') && !BASE_ROOT) throw new Error('--builds with base needs BENCH_BASE_ROOT');
  const rounds: Record<string, unknown>[] = [];
  let last: Awaited<ReturnType<typeof round>> | undefined;
  for (const build of builds) {
    await last?.finish();
    last = await round(build);
    rounds.push(last.figures);
    process.stderr.write(`[${build}] ${JSON.stringify({ cpuMsPerRequest: last.figures.deliveringProcessCpu, perSecond: last.deliveriesPerSecond, latency: (last.figures.healthyEndpoints as { latencyMs: unknown }).latencyMs, load: last.figures.loadAverage1mAtStart })}\n`);
  }
  // The floor, in a Node process of its own, after the last round (nothing else of ours running): the same
  // two healthy receivers, the same slots per endpoint, 10,000 operations per receiver.
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const floorLoad = loadavg()[0];
  const floor = numberArg('floor', 1) === 0 ? [] : await measureFloor(
    last!.endpoints.slice(0, 2).map((ep) => ep.url),
    Number(process.env.WEBHOOK_ENDPOINT_CONCURRENCY ?? 32),
    redisUrl,
    `bench-hooks-floor-${randomBytes(4).toString('hex')}`,
  );
  await last!.finish();
  const stack = floor.find((f) => f.mode === 'stack');
  const summary = (build: Build) => {
    const mine = rounds.filter((r) => r.build === build) as { deliveringProcessCpu: { msPerRequest: number }; deliveriesPerSecond: number }[];
    return mine.length ? { rounds: mine.length, cpuMsPerRequest: mine.map((r) => r.deliveringProcessCpu.msPerRequest), deliveriesPerSecond: mine.map((r) => r.deliveriesPerSecond) } : undefined;
  };
  const one = rounds.length === 1 ? (rounds[0] as { deliveriesPerSecond: number; deliveringProcessCpu: { msPerRequest: number } }) : undefined;
  process.stdout.write(
    JSON.stringify(
      {
        ...(one ? rounds[0] : { rounds, byBuild: { this: summary('this'), base: summary('base') } }),
        floor: { loadAverage1mAtStart: floorLoad, modes: floor },
        // Throughput against the floor means something only when the events came as fast as possible (--rate=0).
        ratioToStackFloor: one && stack && RATE === 0 ? Number((one.deliveriesPerSecond / stack.perSecond).toFixed(2)) : null,
        cpuRatioToStackFloor: one && stack ? Number((one.deliveringProcessCpu.msPerRequest / stack.cpuMsPerOperation).toFixed(2)) : null,
        cores: cpus().length,
      },
      null,
      2,
    ) + '\n',
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
