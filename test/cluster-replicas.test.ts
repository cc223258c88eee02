import { assignMailboxes } from '@app/cluster';
import { ListenerReplicas, ListenerWorld, MailEventsWatch, MailPump, PumpedMessage, queryDatabase } from '@app/testing';

const HEARTBEAT_MS = 400;
const LEASE_TTL_MS = 2000;
const MAILBOXES = 30;

type Holding = {
  mailboxId: string;
  email: string;
  /** The lease holder (mailbox_leases). */
  holder: string | null;
  /** The owner the mailbox's status names, and its state (mailbox_status). */
  reported: string | null;
  state: string | null;
};

/** The key of one message: mailbox and UID (one folder, one UIDVALIDITY in this suite). */
const keyOf = (mailboxId: string, uid: number | string) => `${mailboxId}:${uid}`;

/** `mail.received.<mailbox>.<folder key>.<uidValidity>.<uid>` → its message's key. */
function keyOfJobId(jobId: string): string | null {
  const parts = jobId.split('.');
  return parts[0] === 'mail' && parts[1] === 'received' ? keyOf(parts[2], parts[parts.length - 1]) : null;
}

/**
 * Samples every folder cursor all along the suite and records any that moved backwards (within one
 * UIDVALIDITY): the invariant no takeover, drain or zombie may break.
 */
class CursorWatch {
  readonly regressions: string[] = [];
  private readonly last = new Map<string, { uidValidity: string; lastUid: number }>();
  private running = true;
  private readonly loop: Promise<void>;

  constructor(private readonly databaseUrl: string) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const rows = await queryDatabase<{ folder_id: string; uid_validity: string | null; last_uid: string | null }>(
        this.databaseUrl,
        `SELECT folder_id, uid_validity, last_uid FROM sync_cursors WHERE last_uid IS NOT NULL`,
      );
      for (const row of rows) {
        const seen = this.last.get(row.folder_id);
        const lastUid = Number(row.last_uid);
        if (seen && seen.uidValidity === row.uid_validity && lastUid < seen.lastUid) this.regressions.push(`${row.folder_id}: ${seen.lastUid} → ${lastUid}`);
        this.last.set(row.folder_id, { uidValidity: String(row.uid_validity), lastUid });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

/**
 * Listener replicas as operators run them: three (then two, then three again) real listener processes on
 * 30 Dovecot mailboxes, with mail arriving all the time. Leases spread the mailboxes (one IMAP session
 * each, counted at Dovecot), a SIGKILLed replica's mailboxes are taken over within the lease time, a
 * joining replica takes its share make-before-break, a SIGTERMed one drains, and a paused one that
 * wakes up after losing its leases is fenced. Every message is published, never under two ids; the
 * `duplicated` events of a QueueEvents watch (a re-publish under the same id, which counting jobs cannot
 * see) appear only where the design allows them: the killed or paused replica's in-flight messages.
 * The scenarios run in order on one fleet (each leaves it settled for the next).
 */
describe('Listener replicas (listener processes, Dovecot, Postgres, Redis)', () => {
  const world = new ListenerWorld();
  let replicas: ListenerReplicas;
  let watch: MailEventsWatch;
  let pump: MailPump;
  let cursors: CursorWatch;
  const mailboxes: Array<{ id: string; email: string }> = [];
  const figures: Record<string, number | string> = {};

  beforeAll(async () => {
    // Short beats, lease time and reconcile interval, so takeovers happen within the test (production: 2 s, 10 s, 1 s).
    await world.start({ listener: false, env: { CLUSTER_HEARTBEAT_MS: String(HEARTBEAT_MS), CLUSTER_LEASE_TTL_MS: String(LEASE_TTL_MS), SYNC_RECONCILE_INTERVAL_MS: '200' } });
    for (let i = 0; i < MAILBOXES; i++) mailboxes.push(await world.mailbox(`replica${i}@contoso.com`));
    watch = await MailEventsWatch.open(world.config.redisUrl, world.config.queuePrefix);
    replicas = new ListenerReplicas(world.config, { CLUSTER_DRAIN_TIMEOUT_MS: '10000' });
    pump = new MailPump(world.dovecot);
    cursors = new CursorWatch(world.db.url);
  }, 120_000);

  afterAll(async () => {
    await pump?.stop();
    await cursors?.stop();
    await replicas?.killAll();
    await watch?.close();
    await world.stop();
    process.stdout.write(`cluster-replicas figures: ${JSON.stringify(figures)}\n`);
  });

  async function holdings(): Promise<Holding[]> {
    return queryDatabase<Holding>(
      world.db.url,
      `SELECT m.id AS "mailboxId", m.email, l.owner_id AS holder, s.owner_id AS reported, s.connection_state::text AS state
         FROM mailboxes m LEFT JOIN mailbox_leases l ON l.mailbox_id = m.id LEFT JOIN mailbox_status s ON s.mailbox_id = m.id ORDER BY m.email`,
    );
  }

  /**
   * Waits until the fleet is settled on `live`: every mailbox held by the replica rendezvous hashing gives
   * it, connected, its status naming that holder, and exactly one IMAP session per mailbox at Dovecot.
   */
  async function settled(live: string[], timeoutMs = 20_000): Promise<Holding[]> {
    const { owners } = assignMailboxes(
      mailboxes.map((m) => m.id),
      live,
    );
    const result = await world.waitFor(
      async () => ({ held: await holdings(), sessions: await world.dovecot.sessionsByUser() }),
      ({ held, sessions }) =>
        held.every((h) => h.holder === owners.get(h.mailboxId) && h.reported === h.holder && h.state === 'connected') &&
        mailboxes.every((m) => sessions.get(m.email) === 1),
      timeoutMs,
      `the mailboxes settled on ${live.join(', ')}`,
    );
    return result.held;
  }

  /** mail.received re-published under an existing id since `from` (an index into watch.duplicated). */
  const duplicatedMail = (from = 0) => watch.duplicated.slice(from).filter((jobId) => keyOfJobId(jobId) !== null);

  /** Waits until every pumped message is on mail-events; returns the job id of each message key. */
  async function allPublished(messages: PumpedMessage[]): Promise<Map<string, string>> {
    const wanted = new Set(messages.map((m) => keyOf(m.mailboxId, m.uid)));
    const jobIds = new Map<string, string>();
    await world.waitFor(
      async () => {
        for (const { jobId } of watch.added) {
          const key = keyOfJobId(jobId);
          if (key) jobIds.set(key, jobId);
        }
        return [...wanted].filter((key) => !jobIds.has(key)).length;
      },
      (missing) => missing === 0,
      30_000,
      `all ${wanted.size} pumped messages published`,
    );
    return jobIds;
  }

  /** Every message is on the queue under one id only (a second id would be a second event for the CRM). */
  async function expectNoMessageUnderTwoIds(): Promise<void> {
    const ids = new Map<string, Set<string>>();
    for (const job of await world.events.jobs()) {
      if (job.name !== 'mail.received') continue;
      const key = keyOf(job.data.mailbox.id, job.data.message.uid);
      ids.set(key, (ids.get(key) ?? new Set()).add(job.id!));
    }
    expect([...ids].filter(([, set]) => set.size > 1)).toEqual([]);
  }

  it('(a) three replicas spread the mailboxes as rendezvous hashing says, one IMAP session per mailbox, each status naming its lease holder', async () => {
    await Promise.all(['listener-a', 'listener-b', 'listener-c'].map((id) => replicas.start(id)));
    // Three Nest processes booting at once on two cores: the first settling may take a while under CI load.
    const held = await settled(['listener-a', 'listener-b', 'listener-c'], 45_000);
    const counts = ['listener-a', 'listener-b', 'listener-c'].map((id) => held.filter((h) => h.holder === id).length);
    figures.spread = counts.join('/');
    // settled() holds them to the exact rendezvous assignment; with 30 random ids each replica's share is
    // 10 ± 2.6 (a floor of 4 failed about once in sixty runs), so only: every replica has some.
    for (const count of counts) expect(count).toBeGreaterThanOrEqual(1);
    // What the API says agrees: the status owner is the lease holder.
    for (const h of held) expect((await world.status(h.mailboxId)).owner).toBe(h.holder);
    // Each replica runs exactly what it holds.
    for (const [i, id] of ['listener-a', 'listener-b', 'listener-c'].entries()) expect(await replicas.metric(id, 'mail_listener_owned_mailboxes')).toBe(counts[i]);
  }, 60_000);

  it('(b) kill -9 of a replica while mail arrives: its mailboxes listen elsewhere within the lease time plus reconnecting; every message published, never under two ids, re-published under the same id only if in flight at the kill', async () => {
    const duplicatesBefore = watch.duplicated.length;
    const start = pump.delivered.length;
    pump.start(mailboxes, 20);
    await world.waitFor(async () => pump.delivered.length, (n) => n >= start + 60, 20_000, 'mail flowing');
    const victim = 'listener-c';
    const lost = new Set((await holdings()).filter((h) => h.holder === victim).map((h) => h.mailboxId));
    const killedAt = Date.now();
    expect(await replicas.kill(victim)).toBe(137);
    await world.waitFor(holdings, (held) => held.every((h) => !lost.has(h.mailboxId) || (h.holder !== victim && h.holder !== null)), LEASE_TTL_MS + 5_000, 'the leases taken over');
    figures.killNoticedMs = Date.now() - killedAt;
    await settled(['listener-a', 'listener-b']);
    const failoverMs = Date.now() - killedAt;
    figures.killFailoverMs = failoverMs;
    figures.killedMailboxes = lost.size;
    // The lease time (the survivors notice the silence), then one round and the logins at Dovecot.
    expect(failoverMs).toBeLessThan(LEASE_TTL_MS + 4_000);

    const more = pump.delivered.length;
    await world.waitFor(async () => pump.delivered.length, (n) => n >= more + 30, 20_000, 'mail after the takeover');
    await pump.stop();
    await allPublished(pump.delivered);
    await watch.settle();
    await expectNoMessageUnderTwoIds();
    // Same-id re-publishes: only the killed replica's messages that were in flight (published, cursor not written) at the kill.
    const inFlight = new Set(pump.delivered.filter((m) => lost.has(m.mailboxId) && m.deliveredAt <= killedAt).map((m) => keyOf(m.mailboxId, m.uid)));
    const duplicates = duplicatedMail(duplicatesBefore);
    figures.killDuplicates = duplicates.length;
    const describe = (jobId: string) => {
      const message = pump.delivered.find((m) => keyOf(m.mailboxId, m.uid) === keyOfJobId(jobId));
      return { jobId, ofKilledReplica: message ? lost.has(message.mailboxId) : null, deliveredMsAfterKill: message ? message.deliveredAt - killedAt : null };
    };
    expect(duplicates.filter((jobId) => !inFlight.has(keyOfJobId(jobId)!)).map(describe)).toEqual([]);
    expect(duplicates.length).toBeLessThanOrEqual(lost.size);
  }, 90_000);

  it('a replica joining while mail arrives takes its share make-before-break: only mailboxes rendezvous hashing gives it move, nothing is re-published', async () => {
    const duplicatesBefore = watch.duplicated.length;
    const before = new Map((await holdings()).map((h) => [h.mailboxId, h.holder]));
    pump.start(mailboxes, 20);
    await replicas.start('listener-d');
    const after = await settled(['listener-a', 'listener-b', 'listener-d']);
    const moved = after.filter((h) => before.get(h.mailboxId) !== h.holder);
    figures.joinMoved = moved.length;
    // Each moved mailbox was taken by a warm standby of the newcomer, activated on its open session.
    figures.joinStandbysActivated = await replicas.metric('listener-d', 'mail_listener_warm_standbys_total', { outcome: 'activated' });
    expect(figures.joinStandbysActivated).toBe(moved.length);
    expect(moved.every((h) => h.holder === 'listener-d')).toBe(true);
    expect(moved.length).toBe(after.filter((h) => h.holder === 'listener-d').length);
    const more = pump.delivered.length;
    await world.waitFor(async () => pump.delivered.length, (n) => n >= more + 30, 20_000, 'mail after the join');
    await pump.stop();
    await allPublished(pump.delivered);
    await watch.settle();
    await expectNoMessageUnderTwoIds();
    expect(duplicatedMail(duplicatesBefore)).toEqual([]);
    // A clean hand-over refuses nothing (counted since the start of the suite): each owner stopped the
    // runner, and nothing of it writes after its stop, before granting. The strays once seen here (0, 1, 7
    // under CI load; issue 12) were the first catch-up baselines of runners handed over while still
    // starting, in the start-up of (a): test/cluster-handover-writes.test.ts.
    figures.joinFencedWrites = 0;
    for (const id of ['listener-a', 'listener-b', 'listener-d']) figures.joinFencedWrites += await replicas.metric(id, 'mail_listener_fenced_writes_total');
    expect(figures.joinFencedWrites).toBe(0);
  }, 90_000);

  it('(c) SIGTERM drains while mail arrives: exit 0, every message published once, every drained mailbox listening at Dovecot all along (the takers open their sessions before they ask)', async () => {
    const duplicatesBefore = watch.duplicated.length;
    const standbysActivated = async () => (await replicas.metric('listener-a', 'mail_listener_warm_standbys_total', { outcome: 'activated' })) + (await replicas.metric('listener-d', 'mail_listener_warm_standbys_total', { outcome: 'activated' }));
    const activatedBefore = await standbysActivated();
    const victim = 'listener-b';
    const drained = (await holdings()).filter((h) => h.holder === victim);
    const start = pump.delivered.length;
    pump.start(mailboxes, 20);
    await world.waitFor(async () => pump.delivered.length, (n) => n >= start + 30, 20_000, 'mail flowing');

    // Dovecot's sessions of the drained mailboxes, sampled all along: the longest time each had none.
    // (The pump's own APPEND sessions last milliseconds; a sample may count one, never hide a gap longer than that.)
    let sampling = true;
    let samples = 0;
    /** Samples in which a drained mailbox had no session at all (make-before-break: never). */
    const unheld: string[] = [];
    const silentSince = new Map<string, number>();
    const longestGap = new Map<string, number>(drained.map((h) => [h.email, 0]));
    const sampler = (async () => {
      while (sampling) {
        const sessions = await world.dovecot.sessionsByUser();
        const now = Date.now();
        samples++;
        for (const { email } of drained) {
          if ((sessions.get(email) ?? 0) === 0) unheld.push(`${email} at ${new Date(now).toISOString()}`);
          if ((sessions.get(email) ?? 0) > 0) silentSince.delete(email);
          else silentSince.set(email, silentSince.get(email) ?? now);
          const since = silentSince.get(email);
          if (since !== undefined) longestGap.set(email, Math.max(longestGap.get(email)!, now - since));
        }
      }
    })();

    const drainFrom = Date.now();
    expect(await replicas.terminate(victim)).toBe(0);
    const drainedAt = Date.now();
    figures.drainMs = drainedAt - drainFrom;
    figures.drainedMailboxes = drained.length;
    await settled(['listener-a', 'listener-d']);
    const more = pump.delivered.length;
    await world.waitFor(async () => pump.delivered.length, (n) => n >= more + 30, 20_000, 'mail after the drain');
    sampling = false;
    await sampler;
    await pump.stop();
    const jobIds = await allPublished(pump.delivered);
    await watch.settle();
    await expectNoMessageUnderTwoIds();
    expect(duplicatedMail(duplicatesBefore)).toEqual([]);

    const gap = Math.max(...longestGap.values());
    figures.drainLongestGapMs = gap;
    figures.drainSessionSamples = samples;
    figures.drainUnheldSamples = unheld.length;
    expect(samples).toBeGreaterThan(1);
    expect(unheld).toEqual([]);
    // Every drained mailbox was taken over by a warm standby: activated on its open session, not connected after the grant.
    figures.drainStandbysActivated = (await standbysActivated()) - activatedBefore;
    expect(figures.drainStandbysActivated).toBe(drained.length);
    // Mail to the drained mailboxes while they moved: published within ~2 s (plus Dovecot's 0.5 s IDLE delay).
    const drainedIds = new Set(drained.map((h) => h.mailboxId));
    const during = pump.delivered.filter((m) => drainedIds.has(m.mailboxId) && m.deliveredAt >= drainFrom - 1_000 && m.deliveredAt <= drainedAt + 1_000);
    const latencies = await Promise.all(during.map(async (m) => (await world.events.job(jobIds.get(keyOf(m.mailboxId, m.uid))!))!.timestamp - m.deliveredAt));
    latencies.sort((x, y) => x - y);
    figures.drainMessages = latencies.length;
    figures.drainLatencyP99Ms = latencies[Math.floor(latencies.length * 0.99)] ?? 0;
    figures.drainLatencyMaxMs = latencies[latencies.length - 1] ?? 0;
    expect(latencies.length).toBeGreaterThan(0);
    expect(figures.drainLatencyP99Ms).toBeLessThanOrEqual(2_000);
    expect(latencies[latencies.length - 1]).toBeLessThanOrEqual(3_000);
    // As for the join: nothing refused (counted since the start of the suite).
    figures.drainFencedWrites = 0;
    for (const id of ['listener-a', 'listener-d']) figures.drainFencedWrites += await replicas.metric(id, 'mail_listener_fenced_writes_total');
    expect(figures.drainFencedWrites).toBe(0);
    // Counted by the takers as drain takeovers, one per mailbox.
    const drainTakeovers = async (id: string) => replicas.metric(id, 'mail_listener_lease_takeovers_total', { reason: 'drain' });
    expect((await drainTakeovers('listener-a')) + (await drainTakeovers('listener-d'))).toBe(drained.length);
  }, 90_000);

  it('(d) a replica paused past its lease, then resumed: it stops what it lost, its refused writes are counted, no cursor moved back, nothing under two ids', async () => {
    const duplicatesBefore = watch.duplicated.length;
    const victim = 'listener-d';
    const lost = (await holdings()).filter((h) => h.holder === victim);
    expect(lost.length).toBeGreaterThanOrEqual(2);
    const lostIds = new Set(lost.map((h) => h.mailboxId));
    const fencedBefore = await replicas.metric(victim, 'mail_listener_fenced_writes_total');

    replicas.pause(victim);
    // While it sleeps, the mail server drops half of its connections (as a NAT or the server would drop a
    // frozen client's): on waking, those runners report the drop, a status write the fence must refuse.
    // The other half keep their sessions, and mail keeps arriving on them: on waking they may publish it
    // (the same ids the new owner used) before their cursor write is refused.
    const dropped = lost.slice(0, Math.ceil(lost.length / 2));
    for (const { email } of dropped) await world.dovecot.kickUser(email);
    pump.start(mailboxes, 20);
    await world.waitFor(
      holdings,
      (held) => held.every((h) => !lostIds.has(h.mailboxId) || (h.holder === 'listener-a' && h.reported === 'listener-a' && h.state === 'connected')),
      LEASE_TTL_MS + 10_000,
      'listener-a to take over and connect the paused replica’s mailboxes',
    );
    const more = pump.delivered.length;
    await world.waitFor(async () => pump.delivered.length, (n) => n >= more + 30, 20_000, 'mail while it sleeps');

    replicas.resume(victim);
    // Each dropped connection's report was refused (and stopped its runner).
    await world.waitFor(() => replicas.metric(victim, 'mail_listener_fenced_writes_total'), (n) => n - fencedBefore >= dropped.length, 10_000, 'the refused writes counted');
    figures.pausedFencedWrites = (await replicas.metric(victim, 'mail_listener_fenced_writes_total')) - fencedBefore;
    // It closed every session it lost and, heard from again, takes its share back make-before-break.
    await settled(['listener-a', 'listener-d']);
    const after = pump.delivered.length;
    await world.waitFor(async () => pump.delivered.length, (n) => n >= after + 30, 20_000, 'mail after it woke');
    await pump.stop();
    await allPublished(pump.delivered);
    await watch.settle();
    await expectNoMessageUnderTwoIds();
    // Same-id re-publishes only for what the sleeper held (what it published on waking, before it was refused).
    const duplicates = duplicatedMail(duplicatesBefore);
    figures.pausedDuplicates = duplicates.length;
    expect(duplicates.filter((jobId) => !lostIds.has(keyOfJobId(jobId)!.split(':')[0]))).toEqual([]);
    await cursors.stop();
    expect(cursors.regressions).toEqual([]);
  }, 120_000);
});
