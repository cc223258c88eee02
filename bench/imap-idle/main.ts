/**
 * IMAP IDLE at scale: N mailboxes in ONE listener process against a real Dovecot (hibernation on).
 *
 *   npm run bench:imap-idle -- [--mailboxes=1000,3000,10000] [--samples=200] [--burst=500] [--heap-compaction=every-gc|v8-default]
 *
 * For each N: seeds N Dovecot users and N mailboxes (password login), measures Dovecot's own floor (the
 * same N logins by a minimal pipelined client; again after the listener stopped), starts the built listener as its own process, and prints
 * the time until all N are connected, the listener's RSS (before any mailbox, and per mailbox; the JS
 * heap per mailbox beside it), its CPU while every session idles (two minutes: one round of Dovecot's IDLE keepalive; and per 10 s), the APPEND → job-in-`mail-events` latency
 * (p50/p99) on idle (hibernated) sessions, and the same for a burst of mail to many mailboxes at once.
 * Needs Postgres (DATABASE_URL), Redis (REDIS_URL), Dovecot, root, and `npm run build` (the script runs it).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueueEvents } from 'bullmq';
import Redis from 'ioredis';
import { Client } from 'pg';
import { KeyRing, SecretBox } from '@app/crypto';
import { MAIL_EVENTS_QUEUE } from '@app/events';
import { secretContext } from '@app/persistence';
import { folderKey } from '@app/sync';
import { buildMessage, createTestDatabase, DovecotServer, ENTRY_POINTS, freePort, queryDatabase, TestDatabase } from '@app/testing';
import { runMigrations, dataSourceOptions } from '@app/persistence';
import { DataSource } from 'typeorm';
import { cpuSeconds, cpuSince, machineCpu, percentile, rssBytes } from './proc-stats';
import { rawIdleFloor } from './raw-idle-floor';
import { numberArg, textArg } from '../args';

const ROOT = join(__dirname, '..', '..', '..');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The V8 heap in use and committed (the listener's own metrics): committed minus used is GC slack, RSS minus committed is native memory. */
async function heapFigures(port: number): Promise<{ used: number; committed: number; committedBySpace: Record<string, number> }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const metric = (name: string): number => {
    const match = new RegExp(`^\\w*${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    if (!match) throw new Error(`${name} missing from /metrics`);
    return Number(match[1]);
  };
  const committedBySpace = Object.fromEntries(
    [...text.matchAll(/^\w*nodejs_heap_space_size_total_bytes\{[^}]*space="(\w+)"[^}]*\} (\S+)$/gm)].map(([, space, bytes]) => [space, Number(bytes)]),
  );
  return { used: metric('nodejs_heap_size_used_bytes'), committed: metric('nodejs_heap_size_total_bytes'), committedBySpace };
}

/**
 * Logins Dovecot logged so far, and connections it closed before one: a start that needs more logins than
 * mailboxes (an attempt that timed out against a saturated Dovecot, then retried) costs both sides again.
 */
function dovecotLogins(logPath: string): { logins: number; aborted: number } {
  const log = readFileSync(logPath, 'utf8');
  return { logins: log.match(/imap-login: Info: Login: /g)?.length ?? 0, aborted: log.match(/imap-login: Info: (?:Disconnected|Aborted login)/g)?.length ?? 0 };
}

/** The start against the mean of Dovecot's floor before and after it (see Round.floorAfterSeconds). */
function startRatio(r: Pick<Round, 'connectSeconds' | 'floorSeconds' | 'floorAfterSeconds'>): number {
  return r.connectSeconds / ((r.floorSeconds + r.floorAfterSeconds) / 2);
}

/** Transactions committed in the bench's database so far (Postgres's cumulative statistics). */
async function committedTransactions(url: string): Promise<number> {
  const [{ n }] = await queryDatabase<{ n: string }>(url, `SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()`);
  return Number(n);
}

async function waitHealthy(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await sleep(200);
  }
  throw new Error(`${url} not healthy after ${timeoutMs} ms`);
}

interface Round {
  mailboxes: number;
  connectSeconds: number;
  /** Listener CPU while the N connected (user + system), per mailbox. */
  connectCpuMsPerMailbox: number;
  /** Transactions the database committed while the N connected (each autocommitted statement is one), per mailbox: the listener's round trips. */
  connectTransactionsPerMailbox: number;
  /** Logins at Dovecot while the N connected, and connections it closed before a login (its log). */
  connectLogins: { logins: number; aborted: number };
  /** The same logins by a client that costs next to nothing (see rawIdleFloor): the server's own time, before the listener. */
  floorSeconds: number;
  /**
   * The same again once the listener has stopped. The start is compared with the mean of the two: on
   * these VMs the same 3,000 minimal logins took anywhere from 46 to 71 s from one run to the next, so one
   * floor a few minutes before the start moved the ratio by more than the listener's own cost.
   */
  floorAfterSeconds: number;
  /** JS heap in use (the listener's own metric) per mailbox, beside the RSS-based figure. */
  heapPerMailboxKiB: number;
  /** V8 heap committed per mailbox (used plus GC slack). */
  heapCommittedPerMailboxKiB: number;
  /** Growth of the committed heap by V8 space (MiB): new space is young-generation room, not per-mailbox state. */
  heapCommittedGrowthBySpaceMiB: Record<string, number>;
  /** CPU % of each 10 s of the idle window. */
  idleCpuBuckets: number[];
  fixedRssMiB: number;
  perMailboxKiB: number;
  idleCpuPercent: number;
  idle: { p50: number; p99: number; n: number };
  burst: { p50: number; p99: number; n: number; allMs: number; appendsMs: number };
  /**
   * Messages not on the queue in time: idle samples after 10 s, burst messages after 60 s, and of those,
   * still none 20 s later (well before the safety sweep).
   */
  unpublished: { idleAfter10s: number; burstAfter60s: number; stillAfter20sMore: number };
  dovecotProcesses: number;
}

/** Idle CPU and memory are read over one full cycle of Dovecot's IDLE keepalive (imap_idle_notify_interval). */
const IDLE_WINDOW_S = 120;

/** e.g. LISTENER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the listener. */
const nodeArgs = (process.env.LISTENER_NODE_ARGS ?? '').split(' ').filter(Boolean);

async function round(n: number, samples: number, burstSize: number): Promise<Round> {
  // --dovecot=reuse: one shared uid and imap processes reused after their session hibernates (fewer
  // forks per login); needs fs.inotify.max_user_instances raised (root), which this sets.
  const reuse = textArg('dovecot', 'per-user') === 'reuse';
  if (reuse) execFileSync('sysctl', ['-w', `fs.inotify.max_user_instances=${Math.max(1024, n * 2)}`]);
  const dovecot = await DovecotServer.start({ hibernate: true, ...(reuse ? { uidMode: 'shared' as const, imapServiceCount: 1000 } : {}) });
  const db: TestDatabase = await createTestDatabase();
  const key = randomBytes(32).toString('base64');
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const port = await freePort();
  let listener: ReturnType<typeof spawn> | undefined;
  let events: QueueEvents | undefined;
  // Ours to close: BullMQ leaves a connection it was handed open (a run once hung after its table on it).
  let eventsRedis: Redis | undefined;
  const seen = new Map<string, number>();
  let cleaning: Promise<void> | undefined;
  const stopListener = async () => {
    if (listener && listener.exitCode === null) {
      const exited = new Promise((resolve) => listener!.once('exit', resolve));
      listener.kill('SIGTERM');
      // A profiled listener writes its profile on a clean exit: give it time to close every session.
      await Promise.race([exited, sleep(nodeArgs.length > 0 ? 60_000 : 5_000)]);
      listener.kill('SIGKILL');
    }
  };
  const cleanUp = () =>
    (cleaning ??= (async () => {
      await stopListener();
      await events?.close();
      eventsRedis?.disconnect();
      await db.drop().catch(() => undefined);
      await dovecot.destroy();
    })());
  interruptCleanups.add(cleanUp);
  try {
    console.log('  migrating');
    const migrate = await new DataSource(dataSourceOptions(db.url, 1)).initialize();
    await runMigrations(migrate);
    await migrate.destroy();

    // Seed: Dovecot users (own uid each, so inotify limits are per user) and mailboxes in bulk.
    const emails = Array.from({ length: n }, (_, i) => `m${i}@bench.test`);
    console.log('  adding Dovecot users');
    const users = emails.map((username) => ({ username, password: `pw-${username}` }));
    await dovecot.addUsers(users);
    // Dovecot's floor on this machine. It also creates every user's mail store, as a real server has.
    const floorCpu0 = machineCpu();
    const floor = await rawIdleFloor(dovecot.port, users);
    const floorCpu = cpuSince(floorCpu0);
    console.log(
      `  floor: ${floor.sessions} sessions idling in ${floor.seconds.toFixed(1)} s with a minimal client ` +
        `(Dovecot ${((floorCpu.dovecot / floor.sessions) * 1000).toFixed(1)} ms of CPU per login; machine ${floorCpu.busy.toFixed(1)} CPU s busy of ${(floor.seconds * cpus().length).toFixed(1)})`,
    );
    // A fresh server for the listener, as after a restart: the floor's sessions all closing at once are
    // not what the listener should meet (after 10,000 of them only 1,024 of the listener's sessions
    // connected; the rest were closed right after the greeting and none hibernated).
    await dovecot.restart();
    console.log('  seeding mailboxes');
    const box = new SecretBox(KeyRing.fromBase64(key));
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    const [{ id: providerId }] = (
      await pg.query(
        `INSERT INTO providers (name, type, host, port, secure, verify_certificate, load_emails, send_emails, login_format, auth_method)
         VALUES ('Dovecot', 'imap', '127.0.0.1', $1, false, false, true, false, 'email', 'basic') RETURNING id`,
        [dovecot.port],
      )
    ).rows;
    const mailboxes: { id: string; email: string; folderId: string }[] = [];
    for (let i = 0; i < n; i += 1000) {
      const chunk = emails.slice(i, i + 1000);
      const rows = (await pg.query(`INSERT INTO mailboxes (email, provider_id, login, enabled) SELECT e, $1, e, true FROM unnest($2::text[]) e RETURNING id, email`, [providerId, chunk])).rows;
      const folders = (await pg.query(`INSERT INTO mailbox_folders (mailbox_id, path, position) SELECT unnest($1::uuid[]), 'INBOX', 0 RETURNING id, mailbox_id`, [rows.map((r) => r.id)])).rows;
      await pg.query(`INSERT INTO mailbox_credentials (mailbox_id, password_encrypted) SELECT * FROM unnest($1::uuid[], $2::text[])`, [
        rows.map((r) => r.id),
        rows.map((r) => box.encrypt(`pw-${r.email}`, secretContext.mailboxPassword(r.id))),
      ]);
      for (const row of rows) mailboxes.push({ id: row.id, email: row.email, folderId: folders.find((f) => f.mailbox_id === row.id).id });
    }
    await pg.end();

    // The listener as its own process: its RSS and CPU are what we measure.
    const env = {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      API_KEYS: 'bench-api-key-0123456789',
      ENCRYPTION_KEY: key,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'ml-bench-')),
      LISTENER_PORT: String(port),
      API_HOST: '127.0.0.1',
      IMAP_CONNECT_RATE_PER_HOST: textArg('connect-rate', '1000'),
      LISTENER_HEAP_COMPACTION: textArg('heap-compaction', 'every-gc'),
      // Production refuses loopback mail servers unless allowed (the outbound policy); Dovecot is on 127.0.0.1.
      OUTBOUND_ALLOWED_NETWORKS: '127.0.0.1/32',
    };
    // Start with the mailboxes disabled to read the fixed memory, then enable them all at once.
    await queryDatabase(db.url, `UPDATE mailboxes SET enabled = false`);
    listener = spawn(process.execPath, [...nodeArgs, join(ROOT, ENTRY_POINTS.listener)], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    const pid = listener.pid!;
    await waitHealthy(`http://127.0.0.1:${port}/health/ready`);
    await sleep(3000);
    const fixedRss = rssBytes(pid);
    const fixedHeap = await heapFigures(port);

    console.log(`  listener up (RSS ${(fixedRss / 2 ** 20).toFixed(0)} MiB); enabling ${n} mailboxes`);
    const commitsBefore = await committedTransactions(db.url);
    const loginsBefore = dovecotLogins(dovecot.logPath);
    const cpuBefore = cpuSeconds(pid);
    const machineBefore = machineCpu();
    let polls = 0;
    // One connection for the polls: a connection per poll (ten a second) forked a Postgres backend each
    // time, CPU taken from the two cores the listener and Dovecot share (~3 of 58 core-seconds at 1,000).
    const poller = new Client({ connectionString: db.url });
    await poller.connect();
    const started = Date.now();
    try {
      await poller.query(`UPDATE mailboxes SET enabled = true, updated_at = now()`);
      for (;;) {
        polls += 1;
        const [{ c }] = (await poller.query<{ c: number }>(`SELECT count(*)::int AS c FROM mailbox_status WHERE connection_state = 'connected'`)).rows;
        if (c >= n) break;
        if (Date.now() - started > 600_000) {
          console.error(`  Dovecot's log, last lines:\n${dovecot.logTail(30)}`);
          throw new Error(`only ${c} of ${n} connected after 10 minutes`);
        }
        await sleep(100);
      }
    } finally {
      // Its counts reach pg_stat_database when it ends.
      await poller.end();
    }
    const connectSeconds = (Date.now() - started) / 1000;
    const connectCpuSeconds = cpuSeconds(pid) - cpuBefore;
    // Whose CPU the start's wall time went to: with Dovecot's per login beside the floor's, the listener's share is plain.
    const startCpu = cpuSince(machineBefore);
    console.log(
      `  start's CPU: machine ${startCpu.busy.toFixed(1)} s busy of ${(connectSeconds * cpus().length).toFixed(1)}; ` +
        `Dovecot ${startCpu.dovecot.toFixed(1)} s (${((startCpu.dovecot / n) * 1000).toFixed(1)} ms per login), listener ${connectCpuSeconds.toFixed(1)} s, Postgres ${startCpu.postgres.toFixed(1)} s`,
    );
    // Postgres publishes a backend's counts within a second or so of its last statement: wait for them.
    await sleep(2_000);
    // The bench's own statements (the enabling update, the polls, this read) are not the listener's.
    const connectTransactions = (await committedTransactions(db.url)) - commitsBefore - polls - 2;
    const loginsAfter = dovecotLogins(dovecot.logPath);
    const connectLogins = { logins: loginsAfter.logins - loginsBefore.logins, aborted: loginsAfter.aborted - loginsBefore.aborted };
    console.log(`  connected in ${connectSeconds.toFixed(1)} s: listener CPU ${connectCpuSeconds.toFixed(2)} s (${((connectCpuSeconds * 1000) / n).toFixed(1)} ms per mailbox), ${(connectTransactions / n).toFixed(1)} Postgres transactions per mailbox, Dovecot logins ${connectLogins.logins} (${connectLogins.aborted} closed before a login)`);
    // Watching the queue starts only now: during the start it would read 6,000 state_changed events
    // beside the listener, on the same two cores.
    eventsRedis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    events = new QueueEvents(MAIL_EVENTS_QUEUE, { connection: eventsRedis, prefix });
    events.on('waiting', ({ jobId }) => seen.set(jobId, Date.now()));
    await events.waitUntilReady();

    // Idle: let Dovecot hibernate every session (5 s), then measure CPU (and memory at the end) over IDLE_WINDOW_S.
    await sleep(10_000);
    // Two minutes of a quiet fleet: the supervisor's cheap version query every second, and exactly one
    // round of Dovecot's IDLE keepalive. Dovecot sends "* OK Still here" every imap_idle_notify_interval
    // (2 min), aligned on a hash of the client's IP, so all sessions from one listener get it in the
    // same second: one 10 s bucket shows it, and a shorter window would over- or under-count it.
    const cpu0 = cpuSeconds(pid);
    const idleCpuBuckets: number[] = [];
    for (let i = 0; i < IDLE_WINDOW_S / 10; i++) {
      const bucket0 = cpuSeconds(pid);
      await sleep(10_000);
      idleCpuBuckets.push(((cpuSeconds(pid) - bucket0) / 10) * 100);
    }
    const idleCpuPercent = ((cpuSeconds(pid) - cpu0) / IDLE_WINDOW_S) * 100;
    const rss = rssBytes(pid);
    const heap = await heapFigures(port);

    const idOf = (m: { id: string }, uidValidity: number, uid: number) => `mail.received.${m.id}.${folderKey('INBOX')}.${uidValidity}.${uid}`;
    const waitSeen = async (ids: string[], timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (ids.some((id) => !seen.has(id)) && Date.now() < deadline) await sleep(5);
    };

    // Latency on idle (hibernated) sessions: one message at a time, each to a mailbox not touched yet
    // (a session that just fetched stays awake ~5 s in Dovecot, where pushes take its ~500 ms path).
    const idleLatencies: number[] = [];
    const idleLate: string[] = [];
    const order = [...mailboxes].sort(() => Math.random() - 0.5).slice(burstSize);
    /** When each sampled mailbox got its message: a late burst message is explained by its mailbox's last wake. */
    const sampledAt = new Map<string, number>();
    for (let i = 0; i < Math.min(samples, order.length); i++) {
      const m = order[i];
      const t0 = Date.now();
      sampledAt.set(m.id, t0);
      const { uid, uidValidity } = await dovecot.deliver(m.email, buildMessage({ subject: `latency ${i}` }));
      const id = idOf(m, uidValidity, uid);
      await waitSeen([id], 10_000);
      if (seen.has(id)) idleLatencies.push(seen.get(id)! - t0);
      else idleLate.push(id);
      await sleep(Math.random() * 50);
    }

    // Burst: one message to each of `burstSize` mailboxes at once.
    await sleep(8_000);
    const targets = mailboxes.slice(0, Math.min(burstSize, n));
    const t0 = Date.now();
    // The harness APPENDs as each user (a login per message), so delivering 500 at once itself takes a
    // while: latency is counted from when Dovecot acknowledged each APPEND.
    const sent = await Promise.all(
      targets.map(async (m) => {
        const delivered = await dovecot.deliver(m.email, buildMessage({ subject: 'burst' }));
        return { m, acknowledgedAt: Date.now(), ...delivered };
      }),
    );
    const appendsMs = Date.now() - t0;
    const ids = sent.map((s) => idOf(s.m, s.uidValidity, s.uid));
    await waitSeen(ids, 60_000);
    // Index by the message, not by its place among the published ones: one missing message shifted every later pairing.
    const burstLatencies = sent.flatMap((s, i) => (seen.has(ids[i]) ? [Math.max(0, seen.get(ids[i])! - s.acknowledgedAt)] : []));
    const allMs = Math.max(...ids.map((id) => seen.get(id) ?? Infinity)) - t0;
    const burstLate = ids.filter((id) => !seen.has(id));
    const late = [...idleLate, ...burstLate];
    if (late.length > 0) await waitSeen(late, 20_000);
    for (const id of burstLate) {
      const s = sent[ids.indexOf(id)];
      const sampled = sampledAt.get(s.m.id);
      console.log(
        `  burst message not published in 60 s: ${s.m.email} UID ${s.uid}, APPEND acknowledged ${s.acknowledgedAt - t0} ms after the burst began; ` +
          (sampled === undefined ? 'its mailbox had no earlier sample' : `its mailbox's latency sample was appended ${t0 - sampled} ms before the burst began`) +
          (seen.has(id) ? `; published ${seen.get(id)! - s.acknowledgedAt} ms after its APPEND` : '; still not published 20 s later'),
      );
    }
    const unpublished = { idleAfter10s: idleLate.length, burstAfter60s: burstLate.length, stillAfter20sMore: late.filter((id) => !seen.has(id)).length };
    const dovecotProcesses = (await dovecot.processes()).length;

    await stopListener();
    // As before the start: a fresh server, every mail store in place.
    await dovecot.restart();
    const floorAfterSeconds = (await rawIdleFloor(dovecot.port, users)).seconds;
    console.log(`  floor after the listener: ${floorAfterSeconds.toFixed(1)} s (before: ${floor.seconds.toFixed(1)} s); connected in ${startRatio({ connectSeconds, floorSeconds: floor.seconds, floorAfterSeconds }).toFixed(2)} × their mean`);

    return {
      mailboxes: n,
      connectSeconds,
      connectCpuMsPerMailbox: (connectCpuSeconds * 1000) / n,
      connectTransactionsPerMailbox: connectTransactions / n,
      connectLogins,
      floorSeconds: floor.seconds,
      floorAfterSeconds,
      heapPerMailboxKiB: (heap.used - fixedHeap.used) / n / 1024,
      heapCommittedPerMailboxKiB: (heap.committed - fixedHeap.committed) / n / 1024,
      heapCommittedGrowthBySpaceMiB: Object.fromEntries(
        Object.entries(heap.committedBySpace).map(([space, bytes]) => [space, Math.round(((bytes - (fixedHeap.committedBySpace[space] ?? 0)) / 2 ** 20) * 10) / 10]),
      ),
      idleCpuBuckets,
      fixedRssMiB: fixedRss / 2 ** 20,
      perMailboxKiB: (rss - fixedRss) / n / 1024,
      idleCpuPercent,
      idle: { p50: percentile(idleLatencies, 50), p99: percentile(idleLatencies, 99), n: idleLatencies.length },
      burst: { p50: percentile(burstLatencies, 50), p99: percentile(burstLatencies, 99), n: burstLatencies.length, allMs, appendsMs },
      unpublished,
      dovecotProcesses,
    };
  } finally {
    await cleanUp();
    interruptCleanups.delete(cleanUp);
  }
}

/** Ctrl-C or a timeout's SIGTERM must not leave a listener, a Dovecot and a database behind. */
const interruptCleanups = new Set<() => Promise<void>>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the listener and Dovecot`);
    void Promise.allSettled([...interruptCleanups].map((cleanUp) => cleanUp())).then(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  const sizes = textArg('mailboxes', '1000,3000,10000').split(',').map(Number);
  const samples = numberArg('samples', 200);
  const burst = numberArg('burst', 500);
  const results: Round[] = [];
  for (const n of sizes) {
    console.log(`\n--- ${n} mailboxes ---`);
    const r = await round(n, samples, burst);
    results.push(r);
    console.log(JSON.stringify(r));
  }
  console.log('\nmailboxes | connect all (minimal client before / after, ratio to their mean) | connect cost per mailbox (listener CPU, Postgres transactions) | fixed RSS | per mailbox RSS (heap used / committed) | idle CPU (per 10 s) | idle p50/p99 (APPEND→job) | burst p50/p99 (APPEND ack→job), first APPEND→last job (APPENDs alone) | unpublished idle>10 s / burst>60 s / still 20 s later | Dovecot procs');
  for (const r of results) {
    console.log(
      `${String(r.mailboxes).padStart(9)} | ${r.connectSeconds.toFixed(1).padStart(6)} s (${r.floorSeconds.toFixed(1)} / ${r.floorAfterSeconds.toFixed(1)} s, ${startRatio(r).toFixed(2)} ×) | ${r.connectCpuMsPerMailbox.toFixed(1)} ms, ${r.connectTransactionsPerMailbox.toFixed(1)} | ${r.fixedRssMiB.toFixed(0).padStart(5)} MiB | ${r.perMailboxKiB.toFixed(1).padStart(5)} KiB (${r.heapPerMailboxKiB.toFixed(1)} / ${r.heapCommittedPerMailboxKiB.toFixed(1)} KiB) | ${r.idleCpuPercent.toFixed(2)} % (${r.idleCpuBuckets.map((b) => b.toFixed(1)).join(' ')}) | ${r.idle.p50} / ${r.idle.p99} ms (n=${r.idle.n}) | ${r.burst.p50} / ${r.burst.p99} ms, ${r.burst.allMs} ms (${r.burst.appendsMs} ms) (n=${r.burst.n}) | ${r.unpublished.idleAfter10s} / ${r.unpublished.burstAfter60s} / ${r.unpublished.stillAfter20sMore} | ${r.dovecotProcesses}`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
