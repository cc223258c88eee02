/**
 * Sending: `--messages` (1,000) messages of 20 KB, `--attachment-share` (10 %) of them with a 1 MB
 * attachment, queued through the real API (POST /v1/mailboxes/:id/outbox, `--posters` at once) for
 * `--mailboxes` (50) password mailboxes, sent by ONE listener process (the `mail-send` worker) through a
 * real local Postfix (libs/testing PostfixServer, STARTTLS + Dovecot SASL), which delivers over LMTP into
 * Dovecot (`--delivery=lmtp`) or queues and discards (`--delivery=discard`); `both` (default) runs each.
 *
 *   npm run bench:send -- [--messages=1000] [--large-messages=3000] [--mailboxes=50] [--attachment-share=0.1] [--rate=100] [--posters=16] [--delivery=both|lmtp|discard]
 *     [--phases=drain-reuse,drain-fresh,large,paced-reuse,paced-fresh,paced-half,floor,drain-base]
 *
 * BENCH_BASE_ROOT=DIR (a copy of another build: DIR/dist, DIR/node_modules linked) with phase drain-base:
 * drains with that build's listener too, interleaved (base, this, base, this; with BENCH_THIS_FIRST=1 this,
 * base, this, base), to compare within one run.
 * The listener's statements to Postgres are counted (count-statements.ts) and reported per message.
 *
 * Per delivery mode:
 * - drain, reuse on and off (SEND_CONNECTIONS_PER_MAILBOX=2 / 0): the messages are queued while no worker
 *   runs, then the listener starts and sends them all. Accepted per second = messages / (last accepted −
 *   first accepted), from the outbox rows (sent_at); the listener's RSS peak and at the end; Postfix's
 *   connections (its log).
 * - drain of `--large-messages` (3,000), reuse on: the RSS does not grow with the number queued.
 * - paced, reuse on and off: the worker running, messages queued at `--rate`/s (100): queue → accepted
 *   p50/p99 (sent_at − created_at of each row: the API's 202 to the SMTP server's 250 after DATA, as
 *   recorded); and, when the drain rate is below `--rate`, at half the drain rate (a load the machine
 *   sustains, so the latency is the send's and not a growing backlog's).
 * - the floor (floor.ts): nodemailer's SMTPConnection straight to the same Postfix with the same composed
 *   messages, the same logins and SEND_CONCURRENCY slots, no queue and no database; with and without reuse.
 * BENCH_LISTENER_CPU_PROFILE=DIR profiles the listener (bench/webhooks/cpu-profile; summarise with
 * bench/webhooks/profile-summary). Its samples are wall-clock: on a loaded machine the time the listener
 * waits for a core lands on whatever it was running (often the socket write that woke Postgres or
 * Postfix); BENCH_LISTENER_NODE_OPTIONS=--perf-basic-prof with `perf record -e cpu-clock -p PID` counts
 * on-CPU time only. SEND_* variables in the environment are passed to the listener.
 * Needs Postgres (DATABASE_URL), Redis (REDIS_URL), Postfix and Dovecot (scripts/ensure-test-deps.sh); the
 * npm script builds first.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import Redis from 'ioredis';
import { AppProcess, createTestDatabase, DovecotServer, ENTRY_POINTS, freePort, PostfixServer, queryDatabase, startAppProcess, waitForHttpOk } from '@app/testing';
import { FloorFigure, FloorMessage, measureFloor } from './floor';
import { cpuSeconds, rssMb } from '../imap-idle/proc-stats';
import { numberArg, textArg } from '../args';

const entry = (path: string) => join('..', path);

const MESSAGES = numberArg('messages', 1_000);
const LARGE = numberArg('large-messages', 3_000);
const MAILBOXES = numberArg('mailboxes', 50);
const ATTACHMENT_SHARE = numberArg('attachment-share', 0.1);
const RATE = numberArg('rate', 100);
const POSTERS = numberArg('posters', 16);
/** A second build to drain with in the same run (phase drain-base): the figures before a change. */
const BASE_ROOT = process.env.BENCH_BASE_ROOT;
const CONCURRENCY = Number(process.env.SEND_CONCURRENCY ?? 16);
const DOMAIN = 'bench.example';
const RECIPIENTS = 5;
/** Which phases to run (default all): drain-reuse, drain-fresh, large, paced-reuse, paced-fresh, paced-half, floor. */
const PHASES = new Set(textArg('phases', 'drain-reuse,drain-fresh,large,paced-reuse,paced-fresh,paced-half,floor').split(','));

const sender = (i: number) => `s${String(i).padStart(3, '0')}@${DOMAIN}`;
const recipient = (i: number) => `r${i}@${DOMAIN}`;

/** 20 KB of text, and the 1 MB attachment (random bytes: incompressible, as a PDF or an image is). */
const TEXT = Array.from({ length: 300 }, (_, i) => `Line ${i} of the quarterly report: revenue, costs and the outlook for the next quarter.`).join('\n').slice(0, 20_000);
const ATTACHMENT = randomBytes(1024 * 1024).toString('base64');

function body(i: number): object {
  const attach = (i * 7919) % 1000 < ATTACHMENT_SHARE * 1000;
  return {
    to: [recipient(i % RECIPIENTS)],
    subject: `Bench message ${i}`,
    text: TEXT,
    ...(attach ? { attachments: [{ filename: 'report.bin', contentType: 'application/octet-stream', content: ATTACHMENT }] } : {}),
  };
}

interface World {
  apiUrl: string;
  apiKey: string;
  env: NodeJS.ProcessEnv;
  dbUrl: string;
  mailboxIds: string[];
  postfix: PostfixServer;
}

async function api(world: World, method: string, path: string, payload?: object): Promise<{ status: number; body: any }> {
  const response = await fetch(`${world.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${world.apiKey}`, 'content-type': 'application/json' },
    body: payload ? JSON.stringify(payload) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Queues `count` messages round-robin over the mailboxes, `POSTERS` requests at once, at `rate`/s (0: as fast as the API takes them). */
async function queue(world: World, count: number, rate: number, offset: number): Promise<string[]> {
  const ids: string[] = new Array(count);
  let next = 0;
  const started = Date.now();
  const poster = async () => {
    while (next < count) {
      const i = next++;
      if (rate > 0) {
        const due = started + (i / rate) * 1000;
        if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      }
      const answer = await api(world, 'POST', `/v1/mailboxes/${world.mailboxIds[i % world.mailboxIds.length]}/outbox`, body(offset + i));
      if (answer.status !== 202) throw new Error(`POST outbox: ${answer.status} ${JSON.stringify(answer.body)}`);
      ids[i] = answer.body.id;
    }
  };
  await Promise.all(Array.from({ length: rate > 0 ? Math.max(POSTERS, Math.ceil(rate / 10)) : POSTERS }, poster));
  return ids;
}

async function settled(world: World, ids: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await queryDatabase<{ n: number }>(world.dbUrl, `SELECT count(*)::int AS n FROM mail_sends WHERE id = ANY($1::uuid[]) AND state IN ('sent', 'failed')`, [ids]);
    if (row.n === ids.length) return;
    if (Date.now() > deadline) throw new Error(`${row.n} of ${ids.length} sends settled after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Outcome {
  sent: number;
  failed: number;
  failures: string[];
  acceptedPerSecond: number;
  queueToAcceptedMs: { p50: number; p99: number; max: number };
}

async function outcome(world: World, ids: string[]): Promise<Outcome> {
  const [row] = await queryDatabase<any>(
    world.dbUrl,
    `SELECT count(*) FILTER (WHERE state = 'sent')::int AS sent, count(*) FILTER (WHERE state = 'failed')::int AS failed,
            extract(epoch FROM max(sent_at) - min(sent_at))::float8 AS span,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at))::float8 AS p50,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at))::float8 AS p99,
            max(extract(epoch FROM sent_at - created_at))::float8 AS max,
            array_agg(DISTINCT last_error_code) FILTER (WHERE state = 'failed') AS failures
       FROM mail_sends WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  return {
    sent: row.sent,
    failed: row.failed,
    failures: row.failures ?? [],
    acceptedPerSecond: Math.round((row.sent - 1) / row.span),
    queueToAcceptedMs: { p50: Math.round(row.p50 * 1000), p99: Math.round(row.p99 * 1000), max: Math.round(row.max * 1000) },
  };
}

const postfixConnects = (postfix: PostfixServer) => (postfix.logTail(10_000_000).match(/smtpd\[\d+\]: connect from /g) ?? []).length;

/** Where the statement counts of the last listener go (count-statements.ts). */
const STATEMENTS_FILE = join(mkdtempSync(join(tmpdir(), 'ml-bench-statements-')), 'counts.json');

async function startListener(world: World, connectionsPerMailbox: number, profile: string, build: 'this' | 'base' = 'this'): Promise<AppProcess> {
  const profileDir = process.env.BENCH_LISTENER_CPU_PROFILE;
  const preload = [join(__dirname, 'count-statements.js'), ...(profileDir ? [join(__dirname, '..', 'webhooks', 'cpu-profile.js')] : [])];
  const env: NodeJS.ProcessEnv = {
    ...world.env,
    SEND_CONNECTIONS_PER_MAILBOX: String(connectionsPerMailbox),
    // BENCH_LISTENER_NODE_OPTIONS: more for the listener (e.g. --perf-basic-prof, for `perf record -e cpu-clock`: on-CPU samples only).
    NODE_OPTIONS: [...preload.map((file) => `--require ${file}`), process.env.BENCH_LISTENER_NODE_OPTIONS ?? ''].join(' ').trim(),
    BENCH_STATEMENTS_FILE: STATEMENTS_FILE,
    ...(profileDir ? { BENCH_CPU_PROFILE_DIR: join(profileDir, profile) } : {}),
  };
  if (profileDir) require('node:fs').mkdirSync(join(profileDir, profile), { recursive: true });
  rmSync(STATEMENTS_FILE, { force: true });
  // BENCH_BASE_ROOT: a copy of another build (its dist/, node_modules linked) to compare within one run.
  const script = build === 'base' ? relative(join(__dirname, '..', '..'), join(BASE_ROOT!, ENTRY_POINTS.listener)) : entry(ENTRY_POINTS.listener);
  const listener = startAppProcess(script, env);
  await waitForHttpOk(`http://127.0.0.1:${env.LISTENER_PORT}/health/ready`, listener);
  return listener;
}

interface DrainFigure extends Outcome {
  queued: number;
  connectionsPerMailbox: number;
  queuedInMs: number;
  postfixConnections: number;
  listenerRssMb: { atStart: number; peak: number; atEnd: number };
  listenerCpuMsPerMessage: number;
  /** Statements the listener sent to Postgres per message (all of them: BEGIN/COMMIT and background work included), and by first word. */
  statementsPerMessage: number;
  statements: Record<string, number>;
  build: 'this' | 'base';
}

/**
 * BENCH_LISTENER_PERF=DIR: `perf record -e cpu-clock` of the listener while it drains, to DIR/<profile>.data
 * (on-CPU samples only; with BENCH_LISTENER_NODE_OPTIONS=--perf-basic-prof perf names the JavaScript
 * functions: `perf report -i FILE --sort symbol`). Returns the stop.
 */
function perfRecord(pid: number, profile: string): (() => Promise<void>) | null {
  const dir = process.env.BENCH_LISTENER_PERF;
  if (!dir) return null;
  require('node:fs').mkdirSync(dir, { recursive: true });
  const child = spawn('perf', ['record', '-e', 'cpu-clock', '-F', '499', '-g', '-p', String(pid), '-o', join(dir, `${profile}.data`)], { stdio: 'ignore' });
  return () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGINT');
    });
}

/** Queues `count` with no worker running, then one listener sends them all. */
async function drain(world: World, count: number, connectionsPerMailbox: number, offset: number, profile: string, build: 'this' | 'base' = 'this'): Promise<DrainFigure> {
  const queuedStart = Date.now();
  const ids = await queue(world, count, 0, offset);
  const queuedInMs = Date.now() - queuedStart;
  const connectsBefore = postfixConnects(world.postfix);
  const listener = await startListener(world, connectionsPerMailbox, profile, build);
  const pid = listener.child.pid!;
  const atStart = rssMb(pid);
  const perf = perfRecord(pid, profile);
  const cpuBefore = cpuSeconds(pid);
  let peak = atStart;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 100);
  await settled(world, ids, 600_000);
  clearInterval(sampler);
  const cpu = cpuSeconds(pid) - cpuBefore;
  const atEnd = rssMb(pid);
  await perf?.();
  await listener.stop();
  const statements = JSON.parse(readFileSync(STATEMENTS_FILE, 'utf8')) as Record<string, number>;
  const statementsPerMessage = Number((Object.values(statements).reduce((a, b) => a + b, 0) / count).toFixed(2));
  const result = await outcome(world, ids);
  process.stderr.write(`drain ${count} reuse=${connectionsPerMailbox} ${build}: ${result.acceptedPerSecond}/s, ${statementsPerMessage} statements/msg, CPU ${((cpu * 1000) / count).toFixed(1)} ms/msg\n`);
  return {
    build,
    statementsPerMessage,
    statements,
    queued: count,
    connectionsPerMailbox,
    queuedInMs,
    ...result,
    // Queued long before the worker started: the latency of a drain is its backlog, not a figure.
    queueToAcceptedMs: { p50: NaN, p99: NaN, max: NaN },
    postfixConnections: postfixConnects(world.postfix) - connectsBefore,
    listenerRssMb: { atStart: Math.round(atStart), peak: Math.round(peak), atEnd: Math.round(atEnd) },
    listenerCpuMsPerMessage: Number(((cpu * 1000) / count).toFixed(2)),
  };
}

/** The worker running; messages queued at `RATE`/s: the latency figures. */
async function paced(world: World, count: number, connectionsPerMailbox: number, offset: number, rate = RATE): Promise<Outcome & { rate: number; connectionsPerMailbox: number; listenerRssPeakMb: number }> {
  const listener = await startListener(world, connectionsPerMailbox, `paced-${connectionsPerMailbox}`);
  const pid = listener.child.pid!;
  let peak = rssMb(pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 100);
  const ids = await queue(world, count, rate, offset);
  await settled(world, ids, 600_000);
  clearInterval(sampler);
  await listener.stop();
  const result = await outcome(world, ids);
  process.stderr.write(`paced ${count} at ${rate}/s reuse=${connectionsPerMailbox}: p50 ${result.queueToAcceptedMs.p50} ms p99 ${result.queueToAcceptedMs.p99} ms\n`);
  return { rate, connectionsPerMailbox, ...result, listenerRssPeakMb: Math.round(peak) };
}

/** The composed messages as the worker sent them, for the floor. */
async function composed(world: World, ids: string[]): Promise<FloorMessage[]> {
  const rows = await queryDatabase<{ email: string; envelope_from: string; envelope_to: string[]; raw: Buffer }>(
    world.dbUrl,
    `SELECT m.email, s.envelope_from, s.envelope_to, (SELECT string_agg(c.data, ''::bytea ORDER BY c.seq) FROM mail_send_chunks c WHERE c.send_id = s.id AND c.part = 0) AS raw
       FROM mail_sends s JOIN mailboxes m ON m.id = s.mailbox_id WHERE s.id = ANY($1::uuid[])`,
    [ids],
  );
  return rows.map((row) => ({ login: row.email, password: 'pw', from: row.envelope_from, to: row.envelope_to, raw: row.raw }));
}

async function suite(delivery: 'lmtp' | 'discard', dovecot: DovecotServer, base: NodeJS.ProcessEnv, apiKey: string) {
  const postfix = await PostfixServer.start({ dovecot, domains: [DOMAIN], delivery, processLimit: 300 });
  const db = await createTestDatabase();
  const queuePrefix = `bench-send-${randomBytes(4).toString('hex')}`;
  const [apiPort, listenerPort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = { ...base, DATABASE_URL: db.url, QUEUE_PREFIX: queuePrefix, API_PORT: String(apiPort), LISTENER_PORT: String(listenerPort) };
  const apiProcess = startAppProcess(entry(ENTRY_POINTS.api), env);
  await waitForHttpOk(`http://127.0.0.1:${apiPort}/health/ready`, apiProcess);
  const world: World = { apiUrl: `http://127.0.0.1:${apiPort}`, apiKey, env, dbUrl: db.url, mailboxIds: [], postfix };
  const provider = await api(world, 'POST', '/v1/providers', {
    name: 'Bench',
    type: 'imap',
    host: '127.0.0.1',
    port: dovecot.port,
    secure: false,
    verifyCertificate: false,
    loadEmails: false,
    sendEmails: true,
    // The Sent copy is an IMAP APPEND after each send, outside "accepted per second"; the senders are no
    // Dovecot users here, so every copy would fail and only add its retries' statements to the figures.
    appendToSent: false,
    smtp: { host: '127.0.0.1', port: postfix.port, security: 'starttls' },
    domains: [DOMAIN],
  });
  if (provider.status !== 201) throw new Error(`provider: ${provider.status} ${JSON.stringify(provider.body)}`);
  for (let i = 0; i < MAILBOXES; i++) {
    const created = await api(world, 'POST', '/v1/mailboxes', { email: sender(i), password: 'pw' });
    if (created.status !== 201) throw new Error(`mailbox: ${created.status} ${JSON.stringify(created.body)}`);
    world.mailboxIds.push(created.body.id);
  }
  const load = loadavg()[0];
  let offset = 0;
  const next = (n: number) => ((offset += n), offset - n);
  const interleaved = PHASES.has('drain-base') && BASE_ROOT;
  const baseDrainOf = (profile: string) => (interleaved ? drain(world, MESSAGES, 2, next(MESSAGES), `${delivery}-${profile}`, 'base') : Promise.resolve(null));
  let baseDrain: DrainFigure | null = null;
  let baseAfter: DrainFigure | null = null;
  // BENCH_THIS_FIRST=1: this build drains first in each pair (this, base, this, base): later drains of a run
  // tend to be slower (Postfix still works off the earlier ones), so swapping the order shows that bias.
  if (process.env.BENCH_THIS_FIRST !== '1') baseDrain = await baseDrainOf('drain-base');
  const withReuse = PHASES.has('drain-reuse') ? await drain(world, MESSAGES, 2, next(MESSAGES), `${delivery}-drain-reuse`) : null;
  if (process.env.BENCH_THIS_FIRST === '1') baseDrain = await baseDrainOf('drain-base');
  if (process.env.BENCH_THIS_FIRST !== '1') baseAfter = await baseDrainOf('drain-base-again');
  const withReuseAgain = interleaved && PHASES.has('drain-reuse') ? await drain(world, MESSAGES, 2, next(MESSAGES), `${delivery}-drain-reuse-again`) : null;
  if (process.env.BENCH_THIS_FIRST === '1') baseAfter = await baseDrainOf('drain-base-again');
  const withoutReuse = PHASES.has('drain-fresh') ? await drain(world, MESSAGES, 0, next(MESSAGES), `${delivery}-drain-fresh`) : null;
  const large = PHASES.has('large') && LARGE > 0 ? await drain(world, LARGE, 2, next(LARGE), `${delivery}-drain-large`) : null;
  const pacedReuse = PHASES.has('paced-reuse') ? await paced(world, MESSAGES, 2, next(MESSAGES)) : null;
  const pacedFresh = PHASES.has('paced-fresh') ? await paced(world, MESSAGES, 0, next(MESSAGES)) : null;
  // The latency at a load this machine sustains: half the drain rate with reuse (when below --rate).
  const half = withReuse ? Math.max(1, Math.floor(withReuse.acceptedPerSecond / 2)) : 0;
  const pacedHalf = PHASES.has('paced-half') && half > 0 && half < RATE ? await paced(world, MESSAGES, 2, next(MESSAGES), half) : null;
  let floor: FloorFigure[] = [];
  if (PHASES.has('floor') && offset >= MESSAGES) {
    // The same messages the first drain sent (composed bytes from the outbox), in the same order.
    const [first] = await queryDatabase<{ ids: string[] }>(db.url, `SELECT array_agg(id ORDER BY created_at) AS ids FROM mail_sends`);
    const messages = await composed(world, first.ids.slice(0, MESSAGES));
    floor = [await measureFloor('127.0.0.1', postfix.port, messages, CONCURRENCY, 'reuse'), await measureFloor('127.0.0.1', postfix.port, messages, CONCURRENCY, 'fresh')];
  }
  await apiProcess.stop();
  await postfix.destroy();
  const cleanup = new Redis(base.REDIS_URL!);
  let cursor = '0';
  do {
    const [nextCursor, keys] = await cleanup.scan(cursor, 'MATCH', `${queuePrefix}:*`, 'COUNT', 1000);
    if (keys.length) await cleanup.del(...keys);
    cursor = nextCursor;
  } while (cursor !== '0');
  cleanup.disconnect();
  await db.drop();
  const floorReuse = floor.find((f) => f.mode === 'reuse');
  const floorFresh = floor.find((f) => f.mode === 'fresh');
  return {
    delivery,
    loadAverage1mAtStart: load,
    drain: { withReuse, withReuseAgain, baseWithReuse: baseDrain, baseWithReuseAgain: baseAfter, withoutReuse, large },
    paced: { withReuse: pacedReuse, withoutReuse: pacedFresh, withReuseAtHalfTheDrainRate: pacedHalf },
    floor,
    ratioToFloor: {
      withReuse: floorReuse && withReuse ? Number((withReuse.acceptedPerSecond / floorReuse.perSecond).toFixed(2)) : null,
      withReuseAgain: floorReuse && withReuseAgain ? Number((withReuseAgain.acceptedPerSecond / floorReuse.perSecond).toFixed(2)) : null,
      baseWithReuse: floorReuse && baseDrain ? Number((baseDrain.acceptedPerSecond / floorReuse.perSecond).toFixed(2)) : null,
      baseWithReuseAgain: floorReuse && baseAfter ? Number((baseAfter.acceptedPerSecond / floorReuse.perSecond).toFixed(2)) : null,
      withoutReuse: floorFresh && withoutReuse ? Number((withoutReuse.acceptedPerSecond / floorFresh.perSecond).toFixed(2)) : null,
    },
    rssGrowsWithQueued: large && withReuse ? { [`${MESSAGES}`]: withReuse.listenerRssMb, [`${LARGE}`]: large.listenerRssMb } : null,
  };
}

async function main(): Promise<void> {
  const deliveries = textArg('delivery', 'both') === 'both' ? (['discard', 'lmtp'] as const) : [textArg('delivery', 'discard') as 'lmtp' | 'discard'];
  const users = [...Array.from({ length: MAILBOXES }, (_, i) => sender(i)), ...Array.from({ length: RECIPIENTS }, (_, i) => recipient(i))];
  const dovecot = await DovecotServer.start({ users: users.map((username) => ({ username, password: 'pw' })), mtaSockets: true });
  const apiKey = 'bench-api-key-0123456789';
  const base: NodeJS.ProcessEnv = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'error',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    API_KEYS: apiKey,
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    DATA_DIR: mkdtempSync(join(tmpdir(), 'ml-bench-send-')),
    API_HOST: '127.0.0.1',
    OUTBOUND_ALLOWED_NETWORKS: '127.0.0.0/8',
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('SEND_'))),
  };
  const results = [];
  try {
    for (const delivery of deliveries) results.push(await suite(delivery, dovecot, base, apiKey));
  } finally {
    await dovecot.destroy();
  }
  process.stdout.write(
    JSON.stringify(
      { messages: MESSAGES, mailboxes: MAILBOXES, attachmentShare: ATTACHMENT_SHARE, sendConcurrency: CONCURRENCY, cores: cpus().length, results },
      (_key, value) => (typeof value === 'number' && Number.isNaN(value) ? undefined : value),
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
