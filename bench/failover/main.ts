/**
 * Failover, drain and join of listener replicas at scale, against a real Dovecot (hibernation on).
 *
 *   npm run bench:failover -- [--mailboxes=3000] [--replicas=3] [--rate=20] [--heartbeat-ms=2000] [--lease-ttl-ms=10000]
 *                              [--reconcile-ms=<SYNC_RECONCILE_INTERVAL_MS default>] [--idle-s=30] [--mail-s=30] [--hibernate=on|off] [--connect-rate=<IMAP_CONNECT_RATE_PER_HOST default>]
 *                              [--handover-rate=<IMAP_HANDOVER_CONNECT_RATE_PER_HOST default>] [--heap-compaction=<LISTENER_HEAP_COMPACTION default>]
 *                              [--connect-concurrency=<SYNC_CONNECT_CONCURRENCY default>] [--heap-growth=<LISTENER_HEAP_GROWTH_PERCENT default>]
 *                              [--drain-timeout-ms=<CLUSTER_DRAIN_TIMEOUT_MS default>] [--dovecot-cpus=<taskset list>] [--listener-cpus=<taskset list>]
 *   LISTENER_NODE_ARGS="--trace-gc" passes Node/V8 flags to every replica; LISTENER_OUTPUT_DIR=<dir> keeps each
 *   replica's whole output in <dir>/<LISTENER_ID>.log.
 *
 * Seeds N password mailboxes and Dovecot users, measures Dovecot's own floor for N / replicas logins (the
 * minimal pipelined client of bench/imap-idle; once before the listeners start, once more with mail arriving
 * just before the kill, as during its gap) and the drain's floor (push-floor.ts: how late new mail reaches a
 * hibernated session, quiet and while another N / replicas log in at full speed), starts `--replicas` listener processes (production
 * heartbeat, lease time and reconcile interval unless given) and, with mail arriving to random mailboxes
 * at `--rate` per second all along:
 *  1. capacity: each replica's RSS and CPU while idle, and Postgres transactions (pg_stat_database
 *     xact_commit of the bench's own database) per connect, per idle second and per new mail;
 *  2. kill -9 of one replica, once the mail so far is published: seconds until the loss is noticed (first lease taken over), until every one
 *     of its mailboxes is connected again with a new owner, each taker's CPU per mailbox taken; the mail that arrived in the gap: published,
 *     under two ids, re-published under the same id (QueueEvents `duplicated`), latency APPEND ack → job;
 *  3. a replica joining (a fourth process; the fleet is back to `--replicas`): mailboxes moved, seconds
 *     to settle, duplicates;
 *  4. SIGTERM drain of a replica: the longest any drained mailbox had no session at Dovecot, mail latency
 *     p99 to the drained mailboxes during it, duplicates.
 * Each phase waits up to 30 s for its mail; latencies are read at the end, so a message published later
 * counts with its real latency. Mail still not published at the end is listed with how long after its
 * mailbox's last job it arrived (in Dovecot's hibernation blind window or not, see blind-window.ts), then
 * its mailboxes are asked to resync: what is still not published after that is lost. `--hibernate=off` shows the same run without
 * Dovecot's race.
 * Needs Postgres (DATABASE_URL), Redis (REDIS_URL), Dovecot, root, and the built dist/ (the npm script
 * builds it).
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import Redis from 'ioredis';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { assignMailboxes } from '@app/cluster';
import { environmentSchema } from '../../libs/config/src/config.schema';
import { KeyRing, SecretBox } from '@app/crypto';
import { MAIL_EVENTS_QUEUE } from '@app/events';
import { dataSourceOptions, runMigrations, secretContext } from '@app/persistence';
import { folderKey } from '@app/sync';
import { buildMessage, createTestDatabase, DovecotServer, ENTRY_POINTS, freePort, onCpus, TestDatabase } from '@app/testing';
import { cpuSeconds, cpuSince, machineCpu, type MachineCpu, percentile, rssBytes } from '../imap-idle/proc-stats';
import { rawIdleFloor } from '../imap-idle/raw-idle-floor';
import { inHibernateBlindWindow } from './blind-window';
import { rawPushFloor, type PushLatency } from './push-floor';
import { numberArg, textArg } from '../args';

const ROOT = join(__dirname, '..', '..', '..');

/** A built listener as its own process (the repository's dist/, as bench/imap-idle), its output kept for a failure. */
interface Listener {
  child: ChildProcess;
  output(): string;
  exited: Promise<number>;
  stop(signal: NodeJS.Signals): Promise<number>;
}

/** e.g. LISTENER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the replicas (a profile is written on a clean exit: the drained one). */
const nodeArgs = (process.env.LISTENER_NODE_ARGS ?? '').split(' ').filter(Boolean);

/**
 * `--dovecot-cpus=0 --listener-cpus=1`: Dovecot on CPU 0 only, the replicas and the bench itself on CPU 1
 * (Postgres and Redis, shared servers, where the kernel puts them): the mail server has a core of its own,
 * as in production, where it never shares the listeners' machine. On a 2-core machine the floor (Dovecot
 * alone) and the listener's figure otherwise differ by the listeners' CPU taken from Dovecot's cores.
 */
const dovecotCpus = textArg('dovecot-cpus', '') || undefined;
const listenerCpus = textArg('listener-cpus', '') || undefined;

/** `drainTimeoutMs`: the replica's CLUSTER_DRAIN_TIMEOUT_MS (a stop waits that long, and 20 s more, before it kills). */
function startListener(env: NodeJS.ProcessEnv, drainTimeoutMs: number): Listener {
  // The child's pid is the replica's under taskset too (kill -9 and SIGTERM reach it).
  const [file, ...args] = onCpus([process.execPath, ...nodeArgs, join(ROOT, ENTRY_POINTS.listener)], listenerCpus);
  const child = spawn(file, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  // LISTENER_OUTPUT_DIR: each replica's whole output kept in <dir>/<LISTENER_ID>.log (e.g. with LISTENER_NODE_ARGS=--trace-gc).
  const keep = process.env.LISTENER_OUTPUT_DIR ? join(process.env.LISTENER_OUTPUT_DIR, `${env.LISTENER_ID}.log`) : undefined;
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
    if (keep) appendFileSync(keep, chunk);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? 137 : 143))));
  return {
    child,
    output: () => output,
    exited,
    async stop(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(60_000, drainTimeoutMs + 20_000));
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

async function waitReady(port: number, app: Listener, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (app.child.exitCode !== null || app.child.signalCode !== null) throw new Error(`listener exited with ${app.child.exitCode}:\n${app.output()}`);
    if (await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.ok, () => false)) return;
    await sleep(200);
  }
  throw new Error(`listener on ${port} not ready after ${timeoutMs} ms:\n${app.output()}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => (ms / 1000).toFixed(1);

interface Mailbox {
  id: string;
  email: string;
}

interface Delivered {
  mailbox: Mailbox;
  uid: number;
  uidValidity: number;
  /** When Dovecot acknowledged the APPEND. */
  at: number;
}

/** `mail.received.<mailbox>.<folder key>.<uidValidity>.<uid>` → `<mailbox>:<uidValidity>:<uid>`. */
function messageKey(jobId: string): string | null {
  const parts = jobId.split('.');
  if (parts[0] !== 'mail' || parts[1] !== 'received' || parts.length < 6) return null;
  return `${parts[2]}:${parts[parts.length - 2]}:${parts[parts.length - 1]}`;
}
/** `mail.received.<mailbox>.…` or `mailbox.state_changed.<mailbox>.<version>` → the mailbox id. */
function mailboxOfJob(jobId: string): string | null {
  const parts = jobId.split('.');
  return (parts[0] === 'mail' && parts[1] === 'received') || (parts[0] === 'mailbox' && parts[1] === 'state_changed') ? (parts[2] ?? null) : null;
}

const keyOf = (d: Delivered) => `${d.mailbox.id}:${d.uidValidity}:${d.uid}`;

/**
 * Per mailbox leaving one replica (killed or drained), as the bench's polls see it: when another replica
 * first held its lease (the leaving one's writes are fenced from then on), and when that holder's status
 * said connected. Splits a gap into taking the lease and listening again.
 */
class HandOverTimes {
  readonly movedAt = new Map<string, { at: number; to: string }>();
  readonly connectedAt = new Map<string, number>();
  /** The mailboxes whose new holder was not yet seen listening: all a poll still needs to read. */
  readonly waiting: Set<string>;

  constructor(
    private readonly leaving: string,
    private readonly ids: ReadonlySet<string>,
  ) {
    this.waiting = new Set(ids);
  }

  see(rows: { mailbox_id: string; holder: string | null; owner: string | null; state: string | null }[], now: number): void {
    for (const r of rows) {
      if (!this.ids.has(r.mailbox_id) || r.holder === this.leaving || r.holder === null) continue;
      if (!this.movedAt.has(r.mailbox_id)) this.movedAt.set(r.mailbox_id, { at: now, to: r.holder });
      if (r.owner === r.holder && r.state === 'connected' && !this.connectedAt.has(r.mailbox_id)) {
        this.connectedAt.set(r.mailbox_id, now);
        this.waiting.delete(r.mailbox_id);
      }
    }
  }
}

/** mail-events as the CRM would see it: when each job was added (our clock), every id per message, and re-publishes BullMQ dropped. */
class QueueWatch {
  readonly addedAt = new Map<string, number>();
  readonly idsByMessage = new Map<string, Set<string>>();
  readonly duplicated: string[] = [];
  /** When each mailbox's jobs (mail.received, mailbox.state_changed) were added: its session's last visible activity. */
  private readonly activity = new Map<string, number[]>();
  private constructor(
    private readonly events: QueueEvents,
    private readonly queue: Queue,
    private readonly connections: Redis[],
  ) {
    events.on('added', ({ jobId }) => {
      if (!this.addedAt.has(jobId)) this.addedAt.set(jobId, Date.now());
      const key = messageKey(jobId);
      if (key) this.idsByMessage.set(key, (this.idsByMessage.get(key) ?? new Set()).add(jobId));
      const mailboxId = mailboxOfJob(jobId);
      if (mailboxId) this.activity.set(mailboxId, [...(this.activity.get(mailboxId) ?? []), Date.now()]);
    });
    events.on('duplicated', ({ jobId }) => {
      if (messageKey(jobId)) this.duplicated.push(jobId);
    });
    events.on('error', () => undefined);
  }

  static async open(redisUrl: string, prefix: string): Promise<QueueWatch> {
    const blocking = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const client = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const events = new QueueEvents(MAIL_EVENTS_QUEUE, { connection: blocking, prefix, lastEventId: '$' });
    const queue = new Queue(MAIL_EVENTS_QUEUE, { connection: client, prefix });
    queue.on('error', () => undefined);
    await events.waitUntilReady();
    return new QueueWatch(events, queue, [blocking, client]);
  }

  published(d: Delivered): number | undefined {
    const ids = this.idsByMessage.get(keyOf(d));
    if (!ids) return undefined;
    return Math.min(...[...ids].map((id) => this.addedAt.get(id)!));
  }

  /**
   * The last job of this mailbox added before `at`: its session went (back) into IDLE right after it (a
   * delivery's fetch, or the `connected` report after a (re)connect or hand-over), give or take the
   * event outbox's relay delay for the latter.
   */
  lastActivityBefore(mailboxId: string, at: number): number | undefined {
    const before = (this.activity.get(mailboxId) ?? []).filter((t) => t < at);
    return before.length > 0 ? Math.max(...before) : undefined;
  }

  /** A marker job through the ordered stream: every event of an add made before this call has been seen. */
  async settle(timeoutMs = 30_000): Promise<void> {
    const marker = `bench-marker-${randomBytes(6).toString('hex')}`;
    await this.queue.add('bench.marker', {}, { jobId: marker });
    const deadline = Date.now() + timeoutMs;
    while (!this.addedAt.has(marker) && Date.now() < deadline) await sleep(20);
    await this.queue.remove(marker);
  }

  async has(jobId: string): Promise<boolean> {
    return Boolean(await this.queue.getJob(jobId));
  }

  async close(): Promise<void> {
    await this.events.close().catch(() => undefined);
    await this.queue.close().catch(() => undefined);
    for (const c of this.connections) c.disconnect();
  }
}

/** Mail to random mailboxes at a steady rate (each APPEND its own login, several in flight at once). */
class Pump {
  readonly delivered: Delivered[] = [];
  failures = 0;
  private timer?: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<void>>();
  constructor(
    private readonly dovecot: DovecotServer,
    private readonly mailboxes: Mailbox[],
  ) {}

  start(perSecond: number): void {
    this.timer = setInterval(() => {
      const mailbox = this.mailboxes[Math.floor(Math.random() * this.mailboxes.length)];
      const p: Promise<void> = this.dovecot
        .deliver(mailbox.email, buildMessage({ subject: `failover ${this.delivered.length}` }))
        .then(({ uid, uidValidity }) => void this.delivered.push({ mailbox, uid, uidValidity, at: Date.now() }))
        .catch(() => void this.failures++)
        .finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }, 1000 / perSecond);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.inFlight]);
  }
}

async function main(): Promise<void> {
  const n = numberArg('mailboxes', 3000);
  const replicaCount = numberArg('replicas', 3);
  const rate = numberArg('rate', 20);
  const heartbeatMs = numberArg('heartbeat-ms', 2000);
  const leaseTtlMs = numberArg('lease-ttl-ms', 10000);
  const reconcileMs = textArg('reconcile-ms', '');
  const connectRate = textArg('connect-rate', '');
  const handoverRate = textArg('handover-rate', '');
  // As bench:imap-idle: the replicas' heap compaction (LISTENER_HEAP_COMPACTION; default theirs).
  const heapCompaction = textArg('heap-compaction', '');
  // The replicas' heap growth once settled (LISTENER_HEAP_GROWTH_PERCENT; default theirs, 0: V8's own).
  const heapGrowth = textArg('heap-growth', '');
  const connectConcurrency = textArg('connect-concurrency', '');
  // The replicas' drain timeout: their default unless given (a drain hands over make-before-break only when
  // it covers the drained replica's share of logins at the mail server's rate).
  const drainTimeoutMs = Number(textArg('drain-timeout-ms', '') || environmentSchema.shape.CLUSTER_DRAIN_TIMEOUT_MS.parse(undefined));
  // The replicas' own default when not given (the drain's push floor is measured at the takers' pace).
  const handoverPerReplica = Number(handoverRate || environmentSchema.shape.IMAP_HANDOVER_CONNECT_RATE_PER_HOST.parse(undefined));
  const idleS = numberArg('idle-s', 30);
  const mailS = numberArg('mail-s', 30);
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `bench-failover-${randomBytes(4).toString('hex')}`;
  const key = randomBytes(32).toString('base64');
  const dataDir = mkdtempSync(join(tmpdir(), 'ml-bench-failover-'));

  let dovecot: DovecotServer | undefined;
  let db: TestDatabase | undefined;
  let watch: QueueWatch | undefined;
  let pump: Pump | undefined;
  let pgClient: Client | undefined;
  const processes = new Map<string, { app: Listener; port: number }>();
  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      await pump?.stop().catch(() => undefined);
      await Promise.all([...processes.values()].map(({ app }) => app.stop('SIGKILL').catch(() => undefined)));
      await watch?.close();
      // Our queues under our own prefix only (the Redis is shared: never a flush).
      const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
      await (async () => {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await redis.del(...keys);
        } while (cursor !== '0');
      })().catch(() => undefined);
      redis.disconnect();
      await pgClient?.end().catch(() => undefined);
      await db?.drop().catch(() => undefined);
      await dovecot?.destroy().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping the listeners and Dovecot`);
      void cleanUp().then(() => process.exit(130));
    });
  }

  try {
    if (listenerCpus) execFileSync('taskset', ['-a', '-p', '-c', listenerCpus, String(process.pid)], { stdio: 'ignore' });
    dovecot = await DovecotServer.start({ hibernate: textArg('hibernate', 'on') !== 'off', cpus: dovecotCpus });
    db = await createTestDatabase();
    const dbUrl = db.url;
    // One connection for the bench's own queries: each query is one transaction in xact_commit, counted and subtracted.
    const pg = new Client({ connectionString: dbUrl });
    // The drop at clean-up terminates it: not an error to crash on (it would hide the error that led there).
    pg.on('error', () => undefined);
    await pg.connect();
    pgClient = pg;
    let ownQueries = 0;
    const q = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => {
      ownQueries++;
      return (await pg.query(sql, params)).rows as T[];
    };
    console.log('migrating');
    const migrate = await new DataSource(dataSourceOptions(dbUrl, 1)).initialize();
    await runMigrations(migrate);
    await migrate.destroy();

    const emails = Array.from({ length: n }, (_, i) => `f${i}@bench.test`);
    const users = emails.map((username) => ({ username, password: `pw-${username}` }));
    console.log(`adding ${n} Dovecot users`);
    await dovecot.addUsers(users);
    // Every user's mail store exists before the listeners start (as on a real server); the floor is for a replica's share.
    const share = Math.round(n / replicaCount);
    await rawIdleFloor(dovecot.port, users.slice(share));
    const floor = await rawIdleFloor(dovecot.port, users.slice(0, share));
    console.log(`Dovecot's floor: ${floor.sessions} logins to IDLE in ${floor.seconds.toFixed(1)} s (minimal pipelined client)`);
    // The drain's floor: a replica's share listening (hibernated), mail to them, another share logging in
    // at full speed, then at the pace of the drain's takers (the others, each at its hand-over rate).
    const takersPace = (replicaCount - 1) * handoverPerReplica;
    const pushFloor = await rawPushFloor(dovecot, users.slice(0, share), users.slice(share, 2 * share), {
      ratePerSecond: rate,
      quietSeconds: 10,
      pacedLoginsPerSecond: takersPace,
    });
    console.log(
      `Dovecot's push to hibernated sessions: quiet p99 ${pushFloor.quiet.p99} ms; while ${share} log in at full speed (${pushFloor.duringLogins.loginS.toFixed(1)} s) p99 ${pushFloor.duringLogins.p99} ms; at ${takersPace}/s p99 ${pushFloor.duringPacedLogins.p99} ms`,
    );
    await dovecot.restart();

    console.log('seeding mailboxes');
    const box = new SecretBox(KeyRing.fromBase64(key));
    const [{ id: providerId }] = await q<{ id: string }>(
      `INSERT INTO providers (name, type, host, port, secure, verify_certificate, load_emails, send_emails, login_format, auth_method)
       VALUES ('Dovecot', 'imap', '127.0.0.1', $1, false, false, true, false, 'email', 'basic') RETURNING id`,
      [dovecot.port],
    );
    const mailboxes: Mailbox[] = [];
    for (let i = 0; i < n; i += 1000) {
      const rows = await q<Mailbox>(`INSERT INTO mailboxes (email, provider_id, login, enabled) SELECT e, $1, e, false FROM unnest($2::text[]) e RETURNING id, email`, [
        providerId,
        emails.slice(i, i + 1000),
      ]);
      await q(`INSERT INTO mailbox_folders (mailbox_id, path, position) SELECT unnest($1::uuid[]), 'INBOX', 0`, [rows.map((r) => r.id)]);
      await q(`INSERT INTO mailbox_credentials (mailbox_id, password_encrypted) SELECT * FROM unnest($1::uuid[], $2::text[])`, [
        rows.map((r) => r.id),
        rows.map((r) => box.encrypt(`pw-${r.email}`, secretContext.mailboxPassword(r.id))),
      ]);
      mailboxes.push(...rows);
    }
    const byId = new Map(mailboxes.map((m) => [m.id, m]));

    const env = (id: string, port: number): NodeJS.ProcessEnv => ({
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      DATABASE_URL: dbUrl,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      API_KEYS: 'bench-api-key-0123456789',
      ENCRYPTION_KEY: key,
      DATA_DIR: dataDir,
      LISTENER_PORT: String(port),
      API_HOST: '127.0.0.1',
      LISTENER_ID: id,
      // Dovecot is on loopback, which production refuses unless allowed.
      OUTBOUND_ALLOWED_NETWORKS: '127.0.0.1/32',
      CLUSTER_HEARTBEAT_MS: String(heartbeatMs),
      CLUSTER_LEASE_TTL_MS: String(leaseTtlMs),
      CLUSTER_DRAIN_TIMEOUT_MS: String(drainTimeoutMs),
      ...(reconcileMs ? { SYNC_RECONCILE_INTERVAL_MS: reconcileMs } : {}),
      // --connect-rate: logins per second per replica to the one server (default 200): below the server's
      // login rate it leaves room for the pushes of the sessions already listening.
      ...(connectRate ? { IMAP_CONNECT_RATE_PER_HOST: connectRate } : {}),
      ...(handoverRate ? { IMAP_HANDOVER_CONNECT_RATE_PER_HOST: handoverRate } : {}),
      ...(heapCompaction ? { LISTENER_HEAP_COMPACTION: heapCompaction } : {}),
      ...(heapGrowth ? { LISTENER_HEAP_GROWTH_PERCENT: heapGrowth } : {}),
      ...(connectConcurrency ? { SYNC_CONNECT_CONCURRENCY: connectConcurrency } : {}),
    });
    const startReplica = async (id: string) => {
      const port = await freePort();
      const app = startListener(env(id, port), drainTimeoutMs);
      processes.set(id, { app, port });
      await waitReady(port, app);
    };

    /** CPU seconds each of these replicas has used so far (deltas of two readings: CPU over a phase). */
    const cpuOfEach = (ids: string[]): Record<string, number> => Object.fromEntries(ids.map((id) => [id, cpuSeconds(processes.get(id)!.app.child.pid!)]));

    /**
     * Hibernated sessions Dovecot gave up waking so far (`Failed to unhibernate client`: no imap process
     * within 30 s on a server saturated with logins; the client is disconnected and logs in again).
     */
    const droppedSessions = async (since = 0) => (await dovecot!.log()).split('\n').filter((line) => line.includes('Disconnected: Failed to unhibernate client')).slice(since);
    const unhibernateFailures = async () => (await droppedSessions()).length;
    /** The users those log lines name (the prefix `imap-hibernate(<user>)<…>`). */
    const usersOf = (lines: string[]) => new Set(lines.map((line) => /\w\(([^()\s]+@[^()\s]+)\)/.exec(line)?.[1]).filter((user) => user !== undefined));
    /** Whose CPU a hand-over phase went to, and how many sessions Dovecot dropped meanwhile. */
    const handOverCost = (what: string, cpu: MachineCpu, seconds: number, mailboxes: number, dropped: number) =>
      console.log(
        `  ${what}: machine ${cpu.busy.toFixed(1)} CPU s busy of ${(seconds * cpus().length).toFixed(1)}; Dovecot ${cpu.dovecot.toFixed(1)} s ` +
          `(${((cpu.dovecot / Math.max(1, mailboxes)) * 1000).toFixed(1)} ms per mailbox moved), Postgres ${cpu.postgres.toFixed(1)} s; ` +
          `hibernated sessions Dovecot failed to wake (and dropped): ${dropped}`,
      );

    type Row = { mailbox_id: string; holder: string | null; owner: string | null; state: string | null };
    /** Who holds each mailbox (`only`: just those, a lighter query while the kill's gap is timed). */
    const holdings = (only?: ReadonlySet<string>) =>
      q<Row>(
        `SELECT m.id AS mailbox_id, l.owner_id AS holder, s.owner_id AS owner, s.connection_state::text AS state
           FROM mailboxes m LEFT JOIN mailbox_leases l ON l.mailbox_id = m.id LEFT JOIN mailbox_status s ON s.mailbox_id = m.id
          ${only ? 'WHERE m.id = ANY($1::uuid[])' : ''}`,
        only ? [[...only]] : [],
      );
    /** Every mailbox held by the replica rendezvous hashing names among `live`, connected, its status naming that holder. */
    const settled = async (live: string[], timeoutMs = 600_000): Promise<Row[]> => {
      const { owners } = assignMailboxes(
        mailboxes.map((m) => m.id),
        live,
      );
      const deadline = Date.now() + timeoutMs;
      let lastProgress = Date.now();
      const isSettled = (r: Row) => r.holder === owners.get(r.mailbox_id) && r.owner === r.holder && r.state === 'connected';
      // Polled: the mailboxes not seen settled yet (a poll of all 3,000 every 100 ms cost Postgres 5.1 ms and
      // the bench 7.9 ms of CPU, a seventh of a core taken from what is measured); once none is left, all of
      // them again, to confirm (a settled mailbox that moved again is polled anew).
      let unsettled: Set<string> | undefined;
      for (;;) {
        const rows = await holdings(unsettled);
        const pending = rows.filter((r) => !isSettled(r));
        if (!unsettled && pending.length === 0) return rows;
        unsettled = pending.length > 0 ? new Set(pending.map((r) => r.mailbox_id)) : undefined;
        if (Date.now() > deadline) throw new Error(`not settled on ${live.join(', ')} after ${timeoutMs} ms`);
        for (const id of live) {
          const app = processes.get(id)?.app;
          if (app && (app.child.exitCode !== null || app.child.signalCode !== null)) throw new Error(`${id} exited (${app.child.exitCode ?? app.child.signalCode}):\n${app.output()}`);
        }
        if (Date.now() - lastProgress > 10_000) {
          lastProgress = Date.now();
          console.log(`  … ${mailboxes.length - pending.length} of ${mailboxes.length} settled on ${live.join(', ')}`);
        }
        await sleep(100);
      }
    };
    let lastRowWrites = 0;
    const commits = async () => {
      const [row] = await q<{ c: string; w: string }>(
        `SELECT xact_commit AS c, tup_inserted + tup_updated + tup_deleted AS w FROM pg_stat_database WHERE datname = current_database()`,
      );
      lastRowWrites = Number(row.w);
      return Number(row.c);
    };
    /** xact_commit of the listeners alone over `work`: the stats flush lags up to a second, so both ends wait 1.5 s quiet. */
    const listenerCommits = async (work: () => Promise<unknown>): Promise<{ commits: number; rowWrites: number; ms: number }> => {
      await sleep(1500);
      const own0 = ownQueries;
      const c0 = await commits();
      const w0 = lastRowWrites;
      const t0 = Date.now();
      await work();
      const ms = Date.now() - t0;
      await sleep(1500);
      const c1 = await commits();
      return { commits: c1 - c0 - (ownQueries - own0), rowWrites: lastRowWrites - w0, ms: ms + 1500 };
    };

    // --- start: the replicas with nothing enabled, then every mailbox enabled at once ---
    let live = Array.from({ length: replicaCount }, (_, i) => `listener-${String.fromCharCode(97 + i)}`);
    console.log(`starting ${live.join(', ')}`);
    await Promise.all(live.map(startReplica));
    const fixedRss = Object.fromEntries(live.map((id) => [id, rssBytes(processes.get(id)!.app.child.pid!)]));
    const idleCommits0 = await listenerCommits(() => sleep(10_000));
    const startedAt = Date.now();
    const heldBy = new Map<string, number>();
    const connect = await listenerCommits(async () => {
      await q(`UPDATE mailboxes SET enabled = true, updated_at = now()`);
      for (const r of await settled(live)) heldBy.set(r.holder!, (heldBy.get(r.holder!) ?? 0) + 1);
    });
    const connectS = (Date.now() - startedAt) / 1000;
    console.log(`all ${n} connected in ${connectS.toFixed(1)} s over ${replicaCount} replicas`);

    // --- capacity: idle CPU and memory, Postgres transactions idle and per mail ---
    await sleep(10_000); // Dovecot hibernates every session after 5 s
    const cpu0 = cpuOfEach(live);
    const idle = await listenerCommits(() => sleep(idleS * 1000));
    const cpu1 = cpuOfEach(live);
    const idleCpu = Object.fromEntries(live.map((id) => [id, ((cpu1[id] - cpu0[id]) / (idle.ms / 1000)) * 100]));
    const rss = Object.fromEntries(live.map((id) => [id, rssBytes(processes.get(id)!.app.child.pid!)]));
    const idlePerS = idle.commits / (idle.ms / 1000);
    watch = await QueueWatch.open(redisUrl, prefix);
    pump = new Pump(dovecot, mailboxes);
    const mailCpu0 = cpuOfEach(live);
    let mailCount = 0;
    const mail = await listenerCommits(async () => {
      const before = pump!.delivered.length;
      pump!.start(rate);
      await sleep(mailS * 1000);
      await pump!.stop();
      mailCount = pump!.delivered.length - before;
      const deadline = Date.now() + 30_000;
      while (pump!.delivered.slice(before).some((d) => watch!.published(d) === undefined) && Date.now() < deadline) await sleep(50);
    });
    const mailCpu1 = cpuOfEach(live);
    const mailCpu = live.map((id) => ((mailCpu1[id] - mailCpu0[id]) / (mail.ms / 1000)) * 100);
    const perMail = (mail.commits - idlePerS * (mail.ms / 1000)) / mailCount;
    const perConnect = (connect.commits - idlePerS * (connect.ms / 1000)) / n;
    const idleWritesPerS = idle.rowWrites / (idle.ms / 1000);
    // The bench's own UPDATE of every mailbox (n rows) is not the listeners'.
    const writesPerConnect = (connect.rowWrites - n - idleWritesPerS * (connect.ms / 1000)) / n;
    const writesPerMail = (mail.rowWrites - idleWritesPerS * (mail.ms / 1000)) / mailCount;
    console.log(
      `Postgres: idle ${idlePerS.toFixed(1)} tx/s (before enabling: ${(idleCommits0.commits / (idleCommits0.ms / 1000)).toFixed(1)}), per connect ${perConnect.toFixed(2)}, per mail ${perMail.toFixed(2)} (${mailCount} mails)`,
    );

    const phaseMail = (from: number, to: number, ids: Set<string>) => pump!.delivered.filter((d) => ids.has(d.mailbox.id) && d.at >= from && d.at <= to);
    const waitPublished = async (ds: Delivered[], timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      while (ds.some((d) => watch!.published(d) === undefined) && Date.now() < deadline) await sleep(50);
      await watch!.settle();
    };
    const underTwoIds = () => [...watch!.idsByMessage.values()].filter((ids) => ids.size > 1).length;
    const latencies = (ds: Delivered[]) => ds.filter((d) => watch!.published(d) !== undefined).map((d) => Math.max(0, watch!.published(d)! - d.at));
    const hibernating = textArg('hibernate', 'on') !== 'off';
    /** How long after its mailbox's last job (its session's IDLE began ~50 ms later) a message was acknowledged. */
    const idleOffset = (d: Delivered) => {
      const last = watch!.lastActivityBefore(d.mailbox.id, d.at);
      return last === undefined ? undefined : d.at - last;
    };
    const inBlindWindow = (d: Delivered) => {
      const offset = idleOffset(d);
      return hibernating && offset !== undefined && inHibernateBlindWindow(offset);
    };
    /**
     * The latencies of mail outside Dovecot's blind window: what the hand-over itself costs. A message in
     * the window waits for the server's next push or the safety sweep whoever listens, and at a few dozen
     * messages per phase one such message is the p99 on its own.
     */
    const latenciesOutsideWindow = (ds: Delivered[]) => latencies(ds.filter((d) => !inBlindWindow(d)));
    /**
     * A phase's mail as the table shows it, read at the end: a message published only after its phase's
     * wait (or after the final resync) counts with its real latency instead of dropping out of the p99.
     */
    const mailFigures = (ds: Delivered[]) => {
      const lat = latencies(ds);
      const outside = latenciesOutsideWindow(ds);
      // Undefined for a phase without published mail (printed as "—"; its latency targets hold).
      const at = (values: number[], p: number) => (values.length === 0 ? undefined : percentile(values, p));
      return {
        mail: ds.length,
        published: lat.length,
        p50: at(lat, 50),
        p99: at(lat, 99),
        max: Math.max(0, ...lat),
        p99OutsideWindow: at(outside, 99),
        inWindow: lat.length - outside.length,
      };
    };
    const ms = (value: number | undefined) => (value === undefined ? '—' : String(value));
    const within = (value: number | undefined, limit: number) => (value ?? 0) <= limit;

    // --- kill -9 ---
    pump.start(rate);
    await sleep(5_000);
    // Dovecot's floor again, under the kill gap's conditions: the pump's APPENDs (a login each) and every
    // replica's sessions share the server with the takeover's logins. On a slow machine 20 APPENDs/s take
    // a large part of what Dovecot can log in per second, which the first (quiet) floor does not see.
    const floorCpu0 = machineCpu();
    const floorUnderMail = await rawIdleFloor(dovecot.port, users.slice(0, share));
    const floorCpu = cpuSince(floorCpu0);
    console.log(
      `Dovecot's floor with mail arriving at ${rate}/s: ${floorUnderMail.sessions} logins to IDLE in ${floorUnderMail.seconds.toFixed(1)} s; ` +
        `machine ${floorCpu.busy.toFixed(1)} CPU s busy of ${(floorUnderMail.seconds * cpus().length).toFixed(1)}, Dovecot ${floorCpu.dovecot.toFixed(1)} s ` +
        `(${((floorCpu.dovecot / floorUnderMail.sessions) * 1000).toFixed(1)} ms per login)`,
    );
    // The floor's logins hold up Dovecot's pushes to hibernated sessions (~25 s on a slow machine). The kill
    // waits until the mail acknowledged so far is published (but for the blind window's, which waits for the
    // next mail), so that its gap is not also the floor's backlog: Dovecot waking those sessions, and the
    // killed replica's share of that mail in flight at the kill.
    const backlogFrom = Date.now();
    await waitPublished(pump.delivered.filter((d) => !inBlindWindow(d)), 60_000);
    console.log(`  the floor's mail backlog published ${seconds(Date.now() - backlogFrom)} s after it`);
    const victim = live[live.length - 1];
    const lost = new Set((await holdings()).filter((r) => r.holder === victim).map((r) => r.mailbox_id));
    const dup0 = watch.duplicated.length;
    const takersCpu0 = cpuOfEach(live.filter((id) => id !== victim));
    const killCpu0 = machineCpu();
    const killDropped0 = await unhibernateFailures();
    const killedAt = Date.now();
    processes.get(victim)!.app.child.kill('SIGKILL');
    await processes.get(victim)!.app.exited;
    processes.delete(victim);
    live = live.filter((id) => id !== victim);
    let noticedAt = 0;
    let listeningAt = 0;
    // Splits the gap into "noticing and taking" (lease rounds) and "connecting" (logins).
    const killTimes = new HandOverTimes(victim, lost);
    // Only the mailboxes not yet listening again are polled: the poll's Postgres work shrinks as the
    // takeover proceeds instead of competing with it for the cores at full size to the end.
    for (;;) {
      const rows = await holdings(killTimes.waiting);
      const now = Date.now();
      if (!noticedAt && rows.some((r) => r.holder !== victim && r.holder !== null)) noticedAt = now;
      killTimes.see(rows, now);
      if (killTimes.waiting.size === 0) {
        listeningAt = now;
        break;
      }
      if (now - killedAt > 600_000) throw new Error('the killed replica’s mailboxes were not taken over in 10 minutes');
      await sleep(100);
    }
    const takersCpu1 = cpuOfEach(live);
    const killCpu = cpuSince(killCpu0);
    const takersCpu = Object.fromEntries(live.map((id) => [id, takersCpu1[id] - takersCpu0[id]]));
    console.log(`kill -9 ${victim} (${lost.size} mailboxes): noticed after ${seconds(noticedAt - killedAt)} s, all listening again after ${seconds(listeningAt - killedAt)} s`);
    // Whether the gap was CPU-bound, and whose: the takers' share against Dovecot's logins (per login, as in the floor above).
    const takersTotal = Object.values(takersCpu).reduce((a, b) => a + b, 0);
    console.log(
      `  machine from the kill to all listening: ${killCpu.busy.toFixed(1)} CPU s busy of ${(((listeningAt - killedAt) / 1000) * cpus().length).toFixed(1)}; ` +
        `Dovecot ${killCpu.dovecot.toFixed(1)} s (${((killCpu.dovecot / lost.size) * 1000).toFixed(1)} ms per mailbox taken), takers ${takersTotal.toFixed(1)} s, ` +
        `Postgres ${killCpu.postgres.toFixed(1)} s, Redis ${killCpu.redis.toFixed(1)} s, the rest ${(killCpu.busy - killCpu.dovecot - takersTotal - killCpu.postgres - killCpu.redis).toFixed(1)} s`,
    );
    console.log(`  hibernated sessions Dovecot failed to wake (and dropped) from the kill to all listening: ${(await unhibernateFailures()) - killDropped0}`);
    for (const survivor of live) {
      const taken = [...killTimes.movedAt.entries()].filter(([, t]) => t.to === survivor);
      if (taken.length === 0) continue;
      const takes = taken.map(([, t]) => t.at - killedAt);
      const connects = taken.map(([id, t]) => (killTimes.connectedAt.get(id) ?? listeningAt) - t.at);
      console.log(
        `  ${survivor} took ${taken.length}: leases held ${seconds(Math.min(...takes))}–${seconds(Math.max(...takes))} s after the kill; ` +
          `listening after taking p50 ${seconds(percentile(connects, 50))} s / p99 ${seconds(percentile(connects, 99))} s / max ${seconds(Math.max(...connects))} s; ` +
          `CPU from the kill to all listening ${takersCpu[survivor].toFixed(2)} s (${((takersCpu[survivor] / taken.length) * 1000).toFixed(1)} ms per mailbox taken)`,
      );
    }
    await sleep(5_000);
    await pump.stop();
    const gap = phaseMail(killedAt, listeningAt, lost);
    await waitPublished(pump.delivered);
    const killDuplicates = watch.duplicated.slice(dup0);
    // In flight at the kill: a message to one of its mailboxes acknowledged before the kill (published, its cursor maybe not written).
    const inFlightKeys = new Set(pump.delivered.filter((d) => lost.has(d.mailbox.id) && d.at <= killedAt).map(keyOf));
    const kill = {
      mailboxes: lost.size,
      noticedS: (noticedAt - killedAt) / 1000,
      listeningS: (listeningAt - killedAt) / 1000,
      gap,
      gapPublishedInWait: gap.filter((d) => watch!.published(d) !== undefined).length,
      underTwoIds: underTwoIds(),
      duplicated: killDuplicates.length,
      duplicatedNotInFlight: killDuplicates.filter((id) => !inFlightKeys.has(messageKey(id)!)).length,
    };

    // --- a replica joins (the fourth process) ---
    const joiner = `listener-${String.fromCharCode(97 + replicaCount)}`;
    const before = new Map((await holdings()).map((r) => [r.mailbox_id, r.holder]));
    const dup1 = watch.duplicated.length;
    pump.start(rate);
    const joinCpu0 = machineCpu();
    const joinDropped0 = await unhibernateFailures();
    const joinFrom = Date.now();
    await startReplica(joiner);
    live = [...live, joiner];
    const afterJoin = await settled(live);
    const joinS = (Date.now() - joinFrom) / 1000;
    const moved = afterJoin.filter((r) => before.get(r.mailbox_id) !== r.holder).length;
    handOverCost('join', cpuSince(joinCpu0), joinS, moved, (await unhibernateFailures()) - joinDropped0);
    await sleep(3_000);
    await pump.stop();
    await waitPublished(pump.delivered);
    const movedIds = new Set(afterJoin.filter((r) => before.get(r.mailbox_id) !== r.holder).map((r) => r.mailbox_id));
    const joinMail = phaseMail(joinFrom, joinFrom + joinS * 1000, movedIds);
    const join = {
      replicasAfter: live.length,
      moved,
      movedTarget: (1.15 * n) / live.length,
      settleS: joinS,
      duplicated: watch.duplicated.length - dup1,
      underTwoIds: underTwoIds(),
      mail: joinMail,
    };
    console.log(`join ${joiner}: ${moved} moved, settled in ${joinS.toFixed(1)} s`);

    // --- SIGTERM drain ---
    const drainee = live[0];
    const drained = (await holdings()).filter((r) => r.holder === drainee).map((r) => byId.get(r.mailbox_id)!);
    const drainedIds = new Set(drained.map((m) => m.id));
    const dup2 = watch.duplicated.length;
    pump.start(rate);
    await sleep(3_000);
    let sampling = true;
    const silentSince = new Map<string, number>();
    const longest = new Map<string, number>(drained.map((m) => [m.email, 0]));
    let samples = 0;
    const sampler = (async () => {
      while (sampling) {
        const sessions = await dovecot!.sessionsByUser();
        const now = Date.now();
        samples++;
        for (const { email } of drained) {
          if ((sessions.get(email) ?? 0) > 0) silentSince.delete(email);
          else silentSince.set(email, silentSince.get(email) ?? now);
          const since = silentSince.get(email);
          if (since !== undefined) longest.set(email, Math.max(longest.get(email)!, now - since));
        }
      }
    })();
    // The hand-over of each drained mailbox, polled every 100 ms until its new holder listens (as the kill's).
    const drainTimes = new HandOverTimes(drainee, drainedIds);
    const leasePoller = (async () => {
      while (sampling && drainTimes.waiting.size > 0) {
        drainTimes.see(await holdings(drainTimes.waiting), Date.now());
        await sleep(100);
      }
    })();
    const drainCpu0 = machineCpu();
    const drainDropped0 = await unhibernateFailures();
    const drainFrom = Date.now();
    const drainExit = await processes.get(drainee)!.app.stop('SIGTERM');
    const drainedAt = Date.now();
    processes.delete(drainee);
    live = live.filter((id) => id !== drainee);
    await settled(live);
    const drainSettledAt = Date.now();
    // Whose session Dovecot itself dropped during the drain (the old owner's or the taker's): a server failure,
    // told apart below from a mailbox the hand-over left without a session.
    const drainDrops = await droppedSessions(drainDropped0);
    const drainDroppedUsers = usersOf(drainDrops);
    handOverCost('drain', cpuSince(drainCpu0), (drainSettledAt - drainFrom) / 1000, drained.length, drainDrops.length);
    await sleep(3_000);
    sampling = false;
    await sampler;
    await leasePoller;
    await pump.stop();
    await waitPublished(pump.delivered);
    const drainMail = phaseMail(drainFrom, drainSettledAt, drainedIds);
    {
      const { movedAt, connectedAt } = drainTimes;
      const moves = [...movedAt.values()].map((moved) => moved.at - drainFrom);
      const handovers = [...movedAt.entries()].filter(([id]) => connectedAt.has(id)).map(([id, moved]) => connectedAt.get(id)! - moved.at);
      console.log(
        `drain ${drainee}: leases moved ${seconds(Math.min(...moves))}–${seconds(Math.max(...moves))} s after SIGTERM (${moves.length} of ${drained.length}); ` +
          `lease moved → new holder's status connected p50 ${seconds(percentile(handovers, 50))} s / p99 ${seconds(percentile(handovers, 99))} s / max ${seconds(Math.max(0, ...handovers))} s`,
      );
      // Each drain message by when it was acknowledged against its mailbox's hand-over.
      const stage = (d: Delivered) => {
        const moved = movedAt.get(d.mailbox.id)?.at;
        const active = connectedAt.get(d.mailbox.id);
        return moved === undefined || d.at < moved ? 'before its lease moved' : active === undefined || d.at < active ? 'lease moved, new holder not yet connected' : 'after the new holder connected';
      };
      for (const name of ['before its lease moved', 'lease moved, new holder not yet connected', 'after the new holder connected']) {
        const lat = latencies(drainMail.filter((d) => stage(d) === name));
        if (lat.length > 0) console.log(`  drain mail acknowledged ${name}: n=${lat.length}, latency p50 ${percentile(lat, 50)} ms / max ${Math.max(...lat)} ms`);
      }
    }
    const drain = {
      mailboxes: drained.length,
      exitCode: drainExit,
      drainS: (drainedAt - drainFrom) / 1000,
      longestUnheldS: Math.max(0, ...longest.values()) / 1000,
      unheldMailboxes: [...longest.values()].filter((ms) => ms > 0).length,
      unheldDroppedByDovecot: [...longest.entries()].filter(([email, ms]) => ms > 0 && drainDroppedUsers.has(email)).length,
      longestUnheldNotDroppedS: Math.max(0, ...[...longest.entries()].filter(([email]) => !drainDroppedUsers.has(email)).map(([, ms]) => ms)) / 1000,
      sessionSamples: samples,
      mail: drainMail,
      duplicated: watch.duplicated.length - dup2,
      underTwoIds: underTwoIds(),
    };
    const unpublished = pump.delivered.filter((d) => watch!.published(d) === undefined);
    const unpublishedInBlindWindow = unpublished.filter(inBlindWindow).length;
    const phaseOf = (at: number) =>
      at < killedAt ? `before the kill (${at - killedAt} ms)` : at < joinFrom ? `kill +${at - killedAt} ms` : at < drainFrom ? `join +${at - joinFrom} ms` : `drain +${at - drainFrom} ms`;
    // Published, but more than 30 s late: when it arrived, and whether in Dovecot's blind window.
    const latePublished = pump.delivered.filter((d) => (watch!.published(d) ?? 0) - d.at > 30_000);
    for (const d of latePublished.slice(0, 20)) {
      console.log(
        `  published ${watch.published(d)! - d.at} ms after its APPEND: ${d.mailbox.email} uid ${d.uid}, acknowledged ${phaseOf(d.at)}, ${idleOffset(d) ?? '?'} ms after the mailbox's last job (in the blind window: ${inBlindWindow(d)}); lost=${lost.has(d.mailbox.id)} moved=${movedIds.has(d.mailbox.id)} drained=${drainedIds.has(d.mailbox.id)}`,
      );
    }
    if (unpublished.length > 0) {
      const cursorsNow = await q<{ mailbox_id: string; last_uid: string; uid_validity: string }>(
        `SELECT f.mailbox_id, c.last_uid::text, c.uid_validity::text FROM sync_cursors c JOIN mailbox_folders f ON f.id = c.folder_id WHERE f.mailbox_id = ANY($1::uuid[])`,
        [unpublished.map((d) => d.mailbox.id)],
      );
      for (const d of unpublished.slice(0, 20)) {
        const c = cursorsNow.find((r) => r.mailbox_id === d.mailbox.id);
        // In the queue after all (an event the watch missed), or really never added?
        const inQueue = await watch.has(`mail.received.${d.mailbox.id}.${folderKey('INBOX')}.${d.uidValidity}.${d.uid}`);
        const holder = (await q<{ owner_id: string }>(`SELECT owner_id FROM mailbox_leases WHERE mailbox_id = $1`, [d.mailbox.id]))[0]?.owner_id;
        console.log(
          `  not published by the end: ${d.mailbox.email} uid ${d.uid} (uidValidity ${d.uidValidity}), APPEND acknowledged ${phaseOf(d.at)}, ${idleOffset(d) ?? '?'} ms after the mailbox's last job (its IDLE began); its cursor now ${c?.uid_validity}/${c?.last_uid}; job in the queue: ${inQueue}; lease holder now ${holder}; lost=${lost.has(d.mailbox.id)} moved=${movedIds.has(d.mailbox.id)} drained=${drainedIds.has(d.mailbox.id)}`,
        );
      }
    }
    // Late is not lost: a resync (what POST /v1/mailboxes/:id/resync writes) makes each owner reconnect and
    // catch up from its cursor, as its safety sweep would within IMAP_SAFETY_SWEEP_MINUTES.
    let lostTotal = 0;
    if (unpublished.length > 0) {
      await q(`UPDATE mailbox_status SET resync_requested_at = now() WHERE mailbox_id = ANY($1::uuid[])`, [[...new Set(unpublished.map((d) => d.mailbox.id))]]);
      await waitPublished(unpublished, 60_000);
      lostTotal = unpublished.filter((d) => watch!.published(d) === undefined).length;
      console.log(`  after a resync of their mailboxes: ${unpublished.length - lostTotal} of ${unpublished.length} published, ${lostTotal} lost`);
    }

    const perReplica = Object.keys(rss).map((id) => ({
      id,
      mailboxes: heldBy.get(id) ?? 0,
      fixedMiB: fixedRss[id] / 2 ** 20,
      rssMiB: rss[id] / 2 ** 20,
      idleCpu: idleCpu[id],
    }));
    const held = n / replicaCount;
    const targetListen = leaseTtlMs / 1000 + 1.3 * floor.seconds;
    const ratio = (kill.listeningS - leaseTtlMs / 1000) / floor.seconds;
    const ratioUnderMail = (kill.listeningS - leaseTtlMs / 1000) / floorUnderMail.seconds;

    console.log(`\n=== bench:failover, ${n} mailboxes, ${replicaCount} replicas, mail ${rate}/s, heartbeat ${heartbeatMs} ms, lease TTL ${leaseTtlMs} ms, reconcile ${reconcileMs || 'default'}, connect rate ${connectRate || 'default'}, hand-over rate ${handoverRate || 'default'}, connect concurrency ${connectConcurrency || 'default'}, heap compaction ${heapCompaction || 'default'}, heap growth ${heapGrowth || 'default'}, drain timeout ${drainTimeoutMs} ms, Dovecot hibernation ${textArg('hibernate', 'on')}, CPUs: Dovecot ${dovecotCpus ?? 'all'}, listeners and bench ${listenerCpus ?? 'all'} ===`);
    const killFigures = mailFigures(kill.gap);
    const joinFigures = mailFigures(join.mail);
    const drainFigures = mailFigures(drain.mail);
    // Late: published more than 30 s after Dovecot acknowledged it, or not by the end (each phase waited 30 s).
    const lateTotal = latePublished.length + unpublished.length;
    const row = (what: string, figure: string, target = '') => console.log(`${what.padEnd(58)} | ${figure.padEnd(46)} | ${target}`);
    row('', 'figure', 'target');
    row('start: all connected (3 replicas at once)', `${connectS.toFixed(1)} s`);
    row(`Dovecot floor, ${floor.sessions} logins (minimal client)`, `${floor.seconds.toFixed(1)} s`);
    row(`kill -9: loss noticed (first takeover)`, `${kill.noticedS.toFixed(1)} s`, `≈ lease TTL ${leaseTtlMs / 1000} s`);
    row(`Dovecot floor, ${floorUnderMail.sessions} logins, mail arriving at ${rate}/s`, `${floorUnderMail.seconds.toFixed(1)} s`);
    row(`kill -9: all ${kill.mailboxes} listening again elsewhere`, `${kill.listeningS.toFixed(1)} s; (t − TTL) / floor = ${ratio.toFixed(2)}`, `≤ ${targetListen.toFixed(1)} s (TTL + 1.3 × floor) ${kill.listeningS <= targetListen ? 'MET' : 'NOT MET'}`);
    row('  the same against the floor with mail arriving', `(t − TTL) / floor = ${ratioUnderMail.toFixed(2)}`, `≤ 1.3 ${ratioUnderMail <= 1.3 ? 'MET' : 'NOT MET'}`);
    row('kill -9: mail in the gap / published (within the phase)', `${killFigures.mail} / ${killFigures.published} (${kill.gapPublishedInWait})`, `all ${killFigures.mail === killFigures.published ? 'MET' : 'NOT MET'}`);
    row('kill -9: under two ids', `${kill.underTwoIds}`, `0 ${kill.underTwoIds === 0 ? 'MET' : 'NOT MET'}`);
    row('kill -9: same-id re-publishes (not in flight at the kill)', `${kill.duplicated} (${kill.duplicatedNotInFlight})`, `in flight only ${kill.duplicatedNotInFlight === 0 ? 'MET' : 'NOT MET'}`);
    row('kill -9: gap mail latency p50 / p99 (APPEND ack → job)', `${ms(killFigures.p50)} / ${ms(killFigures.p99)} ms`);
    row('  p99 without the mail in Dovecot’s blind window', `${ms(killFigures.p99OutsideWindow)} ms (${killFigures.inWindow} left out)`);
    row(`join ${joiner}: mailboxes moved`, `${join.moved}`, `≤ ${join.movedTarget.toFixed(0)} (1.15 × ${n}/${join.replicasAfter}) ${join.moved <= join.movedTarget ? 'MET' : 'NOT MET'}`);
    row('join: seconds to settle', `${join.settleS.toFixed(1)} s`);
    row('join: same-id re-publishes / under two ids', `${join.duplicated} / ${join.underTwoIds}`, `0 / 0 ${join.duplicated === 0 && join.underTwoIds === 0 ? 'MET' : 'NOT MET'}`);
    row('join: moved mailboxes’ mail latency p99', `${ms(joinFigures.p99)} ms (n=${joinFigures.published})`);
    row('  p99 without the mail in Dovecot’s blind window', `${ms(joinFigures.p99OutsideWindow)} ms (${joinFigures.inWindow} left out)`);
    row(`drain ${drainee} (${drain.mailboxes} mailboxes): exit code, time`, `${drain.exitCode}, ${drain.drainS.toFixed(1)} s`, '0');
    {
      // What the drain had to do in its timeout: the drained share's logins at Dovecot's rate with mail
      // arriving. Make-before-break drains took 1.5–2.4 × that on a slow machine (the standbys' logins
      // compete with the pump and the pushes, and each grant follows its login): what is left at the
      // timeout is released and waits for a cold login.
      const loginsS = (floorUnderMail.seconds * drain.mailboxes) / floorUnderMail.sessions;
      const cover = drainTimeoutMs / 1000 / loginsS;
      row(`drain: timeout / Dovecot's floor for ${drain.mailboxes} logins with mail`, `${(drainTimeoutMs / 1000).toFixed(1)} s / ${loginsS.toFixed(1)} s = ${cover.toFixed(2)} ×`, `≥ 2 × leaves room for the hand-overs ${cover >= 2 ? 'MET' : 'NOT MET'}`);
    }
    row('drain: longest without a session at Dovecot', `${drain.longestUnheldS.toFixed(2)} s (${drain.unheldMailboxes} mailboxes > 0; ${drain.sessionSamples} samples)`, `0 s ${drain.longestUnheldS === 0 ? 'MET' : 'NOT MET'}`);
    row(
      '  of them, sessions Dovecot dropped (failed to wake) / the rest',
      `${drain.unheldDroppedByDovecot} / ${drain.unheldMailboxes - drain.unheldDroppedByDovecot} mailboxes; the rest's longest ${drain.longestUnheldNotDroppedS.toFixed(2)} s`,
      `0 s ${drain.longestUnheldNotDroppedS === 0 ? 'MET' : 'NOT MET'}`,
    );
    const pushRow = (p: PushLatency) => `${p.p50} / ${p.p99} / ${p.max} ms (n=${p.pushed}; ${p.inWindow} in the blind window, ${p.missed} never pushed)`;
    row('Dovecot floor: push to a hibernated session p50 / p99 / max', pushRow(pushFloor.quiet));
    row(`  while ${pushFloor.duringLogins.logins} others log in at full speed (${pushFloor.duringLogins.loginS.toFixed(1)} s)`, pushRow(pushFloor.duringLogins));
    row(`  while they log in at the takers' pace, ${takersPace}/s (${pushFloor.duringPacedLogins.loginS.toFixed(1)} s)`, pushRow(pushFloor.duringPacedLogins));
    row('drain: mail latency p50 / p99 / max', `${ms(drainFigures.p50)} / ${ms(drainFigures.p99)} / ${drainFigures.max} ms (n=${drainFigures.published})`, `p99 ≤ 2000 ms ${within(drainFigures.p99, 2000) ? 'MET' : 'NOT MET'}`);
    row('  p99 without the mail in Dovecot’s blind window', `${ms(drainFigures.p99OutsideWindow)} ms (${drainFigures.inWindow} left out)`, `p99 ≤ 2000 ms ${within(drainFigures.p99OutsideWindow, 2000) ? 'MET' : 'NOT MET'}`);
    row('drain: same-id re-publishes / under two ids', `${drain.duplicated} / ${drain.underTwoIds}`, `0 / 0 ${drain.duplicated === 0 && drain.underTwoIds === 0 ? 'MET' : 'NOT MET'}`);
    row('all phases: mail delivered / published later than 30 s', `${pump.delivered.length} / ${lateTotal} (APPEND failures ${pump.failures})`, `0 ${lateTotal === 0 ? 'MET' : 'NOT MET'}`);
    row('  not published at the end: in Dovecot’s hibernation blind window', `${unpublishedInBlindWindow} of ${unpublished.length}`, `(a server race: see blind-window.ts)`);
    row('  lost (not published after a resync)', `${lostTotal}`, `0 ${lostTotal === 0 ? 'MET' : 'NOT MET'}`);
    console.log(`\ncapacity (before the kill, ~${held.toFixed(0)} mailboxes per replica):`);
    for (const r of perReplica) {
      console.log(
        `  ${r.id}: RSS ${r.fixedMiB.toFixed(0)} MiB with none enabled → ${r.rssMiB.toFixed(0)} MiB for ${r.mailboxes} mailboxes (${(((r.rssMiB - r.fixedMiB) * 1024) / r.mailboxes).toFixed(1)} KiB/mailbox), idle CPU ${r.idleCpu.toFixed(2)} % over ${(idle.ms / 1000).toFixed(0)} s`,
      );
    }
    console.log(`  CPU while mail arrives at ${rate}/s: ${mailCpu.map((c) => c.toFixed(1)).join(' / ')} %`);
    console.log(
      `  Postgres transactions (xact_commit, listeners only): idle ${idlePerS.toFixed(2)}/s for ${replicaCount} replicas (${(idlePerS / replicaCount).toFixed(2)}/s each, ${((idlePerS / replicaCount) * (heartbeatMs / 1000)).toFixed(1)} per heartbeat interval); per connect ${perConnect.toFixed(2)}; per new mail ${perMail.toFixed(2)}`,
    );
    console.log(
      `  Postgres row writes (tup_inserted + tup_updated + tup_deleted, listeners only): idle ${idleWritesPerS.toFixed(2)}/s; per connect ${writesPerConnect.toFixed(2)}; per new mail ${writesPerMail.toFixed(2)}`,
    );
  } catch (error) {
    for (const [id, { app }] of processes) console.error(`--- ${id} output (last 3000 chars) ---\n${app.output().slice(-3000)}`);
    throw error;
  } finally {
    await cleanUp();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
