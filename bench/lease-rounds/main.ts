/**
 * Lease rounds at fleet size against real Postgres (a fresh database): M mailboxes over R replicas (default
 * 100,000 over 10, so one replica holds ~10,000 leases), all live and settled. Measures one replica's lease
 * rounds (LeaseKeeper.round, what the supervisor runs every SYNC_RECONCILE_INTERVAL_MS, and every 100 ms
 * while waiting for grants) two ways:
 * - every round reads every held lease (a keeper without a heartbeat: how every round worked before);
 * - rounds that read only the rows needing action (asks, answers to its asks), the held leases only when the
 *   heartbeat lapsed or once a minute.
 * Prints, per way: lease rows the round read, time of the lease statement, time of the whole round
 * (median and p95), then the same with 100 hand-over asks in flight.
 *
 *   npm run bench:lease-rounds -- [--mailboxes=100000] [--replicas=10] [--rounds=50]
 */
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { assignMailboxes, ClusterMetrics, HeldLease, LeaseKeeper, MailboxLeaseRepository, ReplicaHeartbeat, ReplicaRegistry } from '@app/cluster';
import { loadConfig } from '@app/config';
import { dataSourceOptions, runMigrations } from '@app/persistence';
import { createTestDatabase } from '@app/testing';
import { numberArg } from '../args';

/** The real repository, timing the statement a round reads its leases with. */
class TimedLeases extends MailboxLeaseRepository {
  lastReadMs = 0;

  override async heldBy(me: string): Promise<HeldLease[]> {
    const start = performance.now();
    try {
      return await super.heldBy(me);
    } finally {
      this.lastReadMs = performance.now() - start;
    }
  }

  override async handoversOf(me: string, requested: string[]): Promise<Array<HeldLease & { owner: string | null }>> {
    const start = performance.now();
    try {
      return await super.handoversOf(me, requested);
    } finally {
      this.lastReadMs = performance.now() - start;
    }
  }
}

const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))];

async function main(): Promise<void> {
  const mailboxCount = numberArg('mailboxes', 100_000);
  const replicaCount = numberArg('replicas', 10);
  const roundCount = numberArg('rounds', 50);
  const db = await createTestDatabase();
  const source = await new DataSource(dataSourceOptions(db.url, 4)).initialize();
  const beats: NodeJS.Timeout[] = [];
  try {
    await runMigrations(source);
    const [{ id: providerId }] = (await source.query(
      `INSERT INTO providers (name, type, host, port, secure, verify_certificate, load_emails, send_emails, login_format, auth_method)
       VALUES ('p', 'imap', 'imap.test', 993, true, true, true, false, 'email', 'basic') RETURNING id`,
    )) as Array<{ id: string }>;
    const mailboxIds = (
      (await source.query(
        `INSERT INTO mailboxes (email, provider_id, login, enabled) SELECT 'b' || i || '@x.test', $1, 'b' || i, true FROM generate_series(1, $2::int) i RETURNING id`,
        [providerId, mailboxCount],
      )) as Array<{ id: string }>
    ).map((row) => row.id);
    const registry = new ReplicaRegistry(source);
    const replicaIds = Array.from({ length: replicaCount }, (_, i) => `bench-${i}`);
    for (const id of replicaIds) await registry.register(id);
    // Settled: every mailbox held by its rendezvous owner (set up in bulk; not what is measured).
    const { owners } = assignMailboxes(mailboxIds, replicaIds);
    await source.query(
      `INSERT INTO mailbox_leases (mailbox_id, owner_id, epoch, acquired_at) SELECT m, o, 1, now() FROM unnest($1::uuid[], $2::text[]) AS v(m, o)`,
      [[...owners.keys()], [...owners.values()]],
    );
    await source.query(`ANALYZE mailbox_leases`);
    const me = replicaIds[0];
    const held = [...owners.values()].filter((owner) => owner === me).length;
    const config = loadConfig({ LISTENER_ID: me });
    const heartbeat = new ReplicaHeartbeat(config, registry);
    await heartbeat.beat();
    // Everybody stays live (the heartbeat is this replica's own, as in the listener).
    beats.push(setInterval(() => void Promise.all([heartbeat.beat(), ...replicaIds.slice(1).map((id) => registry.beat(id))]), config.cluster.heartbeatMs));
    console.log(`lease rounds: ${mailboxCount} mailboxes over ${replicaCount} replicas, ${me} holds ${held}; ${roundCount} rounds each, node ${process.version}`);

    const others = new Set(replicaIds.slice(1));
    const askable = [...owners].filter(([, owner]) => owner === me).map(([mailboxId]) => mailboxId);
    for (const asks of [0, 100]) {
      if (asks > 0) {
        // Hand-overs in flight: another replica asked for `asks` of this replica's leases (none granted here).
        await source.query(`UPDATE mailbox_leases SET handover_to = $2 WHERE mailbox_id = ANY($1::uuid[])`, [askable.slice(0, asks), [...others][0]]);
      }
      for (const way of ['every held lease', 'rows needing action'] as const) {
        const leases = new TimedLeases(source);
        const keeper = new LeaseKeeper(leases, registry, new ClusterMetrics(new Registry()), config, way === 'rows needing action' ? heartbeat : undefined);
        await keeper.round(mailboxIds, false); // the first round reads everything either way (and computes the assignment)
        const rows = { ...keeper.reads };
        const readMs: number[] = [];
        const roundMs: number[] = [];
        for (let i = 0; i < roundCount; i++) {
          const start = performance.now();
          await keeper.round(mailboxIds, false);
          roundMs.push(performance.now() - start);
          readMs.push(leases.lastReadMs);
        }
        const rowsPerRound = (keeper.reads.fullRows + keeper.reads.changeRows - rows.fullRows - rows.changeRows) / roundCount;
        console.log(
          `  ${`${asks} asks, ${way}:`.padEnd(36)}${rowsPerRound.toFixed(0).padStart(6)} lease rows/round; lease read median ${quantile(readMs, 0.5).toFixed(2)} ms, p95 ${quantile(readMs, 0.95).toFixed(2)} ms; ` +
            `round median ${quantile(roundMs, 0.5).toFixed(2)} ms, p95 ${quantile(roundMs, 0.95).toFixed(2)} ms (full reads ${keeper.reads.fullRounds - rows.fullRounds})`,
        );
      }
    }
    // The plan of the change read with asks in flight (the partial index and the primary key, not the owner index).
    const plan = (await source.query(
      `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT mailbox_id, owner_id, epoch, handover_to FROM mailbox_leases
        WHERE (owner_id = $1 AND handover_to IS NOT NULL) OR mailbox_id = ANY($2::uuid[])`,
      [me, askable.slice(0, 5)],
    )) as Array<{ 'QUERY PLAN': string }>;
    console.log(`  change read plan:\n${plan.map((row) => `    ${row['QUERY PLAN']}`).join('\n')}`);
  } finally {
    for (const timer of beats) clearInterval(timer);
    await source.destroy();
    await db.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
