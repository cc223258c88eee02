import { DataSource } from 'typeorm';
import { leaseHeldSql, MailboxLeaseRepository, ReplicaRegistry } from '@app/cluster';
import { dataSourceOptions, runMigrations } from '@app/persistence';
import { createTestDatabase, queryDatabase, TestDatabase } from '@app/testing';

const TTL_MS = 10_000;

/** Mailbox leases against real Postgres: who may take a lease, epochs, hand-over, fencing. */
describe('MailboxLeaseRepository', () => {
  let db: TestDatabase;
  let source: DataSource;
  let leases: MailboxLeaseRepository;
  let replicas: ReplicaRegistry;
  let providerId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    source = await new DataSource(dataSourceOptions(db.url, 4)).initialize();
    await runMigrations(source);
    leases = new MailboxLeaseRepository(source);
    replicas = new ReplicaRegistry(source);
    [{ id: providerId }] = await queryDatabase<{ id: string }>(
      db.url,
      `INSERT INTO providers (name, type, host, port, secure, verify_certificate, load_emails, send_emails, login_format, auth_method)
       VALUES ('p', 'imap', 'imap.test', 993, true, true, true, false, 'email', 'basic') RETURNING id`,
    );
  });

  afterAll(async () => {
    await source.destroy();
    await db.drop();
  });

  let counter = 0;
  async function mailboxes(count: number): Promise<string[]> {
    const rows = await queryDatabase<{ id: string }>(
      db.url,
      `INSERT INTO mailboxes (email, provider_id, login, enabled) SELECT 'l' || $2 || '-' || i || '@x.test', $1, 'l' || i, true FROM generate_series(1, $3) i RETURNING id`,
      [providerId, ++counter, count],
    );
    return rows.map((row) => row.id);
  }

  /** Makes a replica look silent for `ms` by the database's clock. */
  async function silence(id: string, ms: number): Promise<void> {
    await queryDatabase(db.url, `UPDATE listener_replicas SET heartbeat_at = now() - $2 * interval '1 millisecond' WHERE id = $1`, [id, ms]);
  }

  it('takes free leases with epoch 1, and leaves a live owner\'s leases alone', async () => {
    const ids = await mailboxes(3);
    await replicas.register('a');
    await replicas.register('b');
    const taken = await leases.acquire(ids, 'a', TTL_MS);
    expect(taken.map((lease) => lease.epoch)).toEqual([1, 1, 1]);
    expect(taken.every((lease) => lease.previousOwner === null)).toBe(true);
    expect(await leases.acquire(ids, 'b', TTL_MS)).toEqual([]);
    expect((await leases.heldBy('a')).map((lease) => lease.mailboxId).sort()).toEqual([...ids].sort());
  });

  it('takes over the leases of a replica silent past the lease time, with a new epoch, naming the previous owner', async () => {
    const ids = await mailboxes(2);
    await replicas.register('dying');
    await replicas.register('heir');
    await leases.acquire(ids, 'dying', TTL_MS);
    await silence('dying', TTL_MS - 2_000);
    expect(await leases.acquire(ids, 'heir', TTL_MS)).toEqual([]);
    await silence('dying', TTL_MS + 1);
    const taken = await leases.acquire(ids, 'heir', TTL_MS);
    expect(taken).toEqual(expect.arrayContaining(ids.map((mailboxId) => ({ mailboxId, epoch: 2, previousOwner: 'dying' }))));
    expect(await leases.heldBy('dying')).toEqual([]);
  });

  it('a replica that never announced itself holds nothing anyone must respect', async () => {
    const [id] = await mailboxes(1);
    await leases.acquire([id], 'ghost', TTL_MS);
    await replicas.register('c');
    expect(await leases.acquire([id], 'c', TTL_MS)).toEqual([{ mailboxId: id, epoch: 2, previousOwner: 'ghost' }]);
  });

  it('re-acquiring its own lease (a restart with the same LISTENER_ID) bumps the epoch and fences the earlier incarnation', async () => {
    const [id] = await mailboxes(1);
    await replicas.register('same');
    const [first] = await leases.acquire([id], 'same', TTL_MS);
    const [second] = await leases.acquire([id], 'same', TTL_MS);
    expect(second.epoch).toBe(first.epoch + 1);
    expect(await leases.holds(id, 'same', first.epoch)).toBe(false);
    expect(await leases.holds(id, 'same', second.epoch)).toBe(true);
  });

  it('fences writes: a write carrying a lost epoch changes no row', async () => {
    const [id] = await mailboxes(1);
    await replicas.register('old');
    await replicas.register('new');
    const [old] = await leases.acquire([id], 'old', TTL_MS);
    await silence('old', TTL_MS + 1);
    await leases.acquire([id], 'new', TTL_MS);
    const fenced = (await source.query(
      `UPDATE mailboxes SET updated_at = now() WHERE id = $1 AND ${leaseHeldSql('mailboxes.id', '$2', '$3::bigint')}`,
      [id, 'old', old.epoch],
    )) as [unknown, number];
    expect(fenced[1]).toBe(0);
    const allowed = (await source.query(`UPDATE mailboxes SET updated_at = now() WHERE id = $1 AND ${leaseHeldSql('mailboxes.id', '$2', '$3::bigint')}`, [
      id,
      'new',
      old.epoch + 1,
    ])) as [unknown, number];
    expect(allowed[1]).toBe(1);
  });

  it('hand-over: a live replica asks, the owner grants with a new epoch, and only then loses its writes', async () => {
    const [id] = await mailboxes(1);
    await replicas.register('giver');
    await replicas.register('taker');
    const [held] = await leases.acquire([id], 'giver', TTL_MS);
    expect(await leases.requestHandover([id], 'taker')).toEqual([{ mailboxId: id, owner: 'giver' }]);
    expect(await leases.requestHandover([id], 'taker')).toEqual([]);
    // Asking is not taking: a live owner's lease passes only by its grant.
    expect(await leases.acquire([id], 'taker', TTL_MS)).toEqual([]);
    expect(await leases.heldBy('giver')).toEqual([{ mailboxId: id, epoch: held.epoch, handoverTo: 'taker' }]);
    // Until the grant, the owner's writes still count.
    expect(await leases.holds(id, 'giver', held.epoch)).toBe(true);
    expect(await leases.grantHandover(id, 'giver', held.epoch, TTL_MS)).toEqual({ to: 'taker', epoch: held.epoch + 1 });
    expect(await leases.holds(id, 'giver', held.epoch)).toBe(false);
    expect(await leases.holds(id, 'taker', held.epoch + 1)).toBe(true);
    expect(await leases.grantHandover(id, 'giver', held.epoch, TTL_MS)).toBeNull();
  });

  it('a hand-over request from a replica that died meanwhile is dropped at the grant: the owner keeps the mailbox', async () => {
    const [id] = await mailboxes(1);
    await replicas.register('keeper');
    await replicas.register('fleeting');
    const [held] = await leases.acquire([id], 'keeper', TTL_MS);
    await leases.requestHandover([id], 'fleeting');
    await silence('fleeting', TTL_MS + 1);
    expect(await leases.grantHandover(id, 'keeper', held.epoch, TTL_MS)).toBeNull();
    expect(await leases.heldBy('keeper')).toEqual([{ mailboxId: id, epoch: held.epoch, handoverTo: null }]);
  });

  it('grants made together share one statement and each gets its own answer (granted, taker gone, stale epoch, not asked, the same lease twice)', async () => {
    const [a, b, gone, stale, unasked] = await mailboxes(5);
    await replicas.register('batch-giver');
    await replicas.register('batch-taker');
    await replicas.register('batch-gone');
    const held = new Map((await leases.acquire([a, b, gone, stale, unasked], 'batch-giver', TTL_MS)).map((lease) => [lease.mailboxId, lease.epoch]));
    await leases.requestHandover([a, b, stale], 'batch-taker');
    await leases.requestHandover([gone], 'batch-gone');
    await silence('batch-gone', TTL_MS + 1);
    // A repository of its own over the same database, counting its grant statements.
    let grantStatements = 0;
    const counting = new Proxy(source, {
      get: (target, property, receiver) =>
        property === 'query'
          ? (sql: string, parameters?: unknown[]) => {
              if (sql.includes('SET owner_id = CASE WHEN v.live')) grantStatements += 1;
              return target.query(sql, parameters);
            }
          : Reflect.get(target, property, receiver),
    });
    const batching = new MailboxLeaseRepository(counting);
    const answers = await Promise.all([
      batching.grantHandover(a, 'batch-giver', held.get(a)!, TTL_MS),
      batching.grantHandover(b, 'batch-giver', held.get(b)!, TTL_MS),
      batching.grantHandover(a, 'batch-giver', held.get(a)!, TTL_MS),
      batching.grantHandover(gone, 'batch-giver', held.get(gone)!, TTL_MS),
      batching.grantHandover(stale, 'batch-giver', held.get(stale)! - 1, TTL_MS),
      batching.grantHandover(unasked, 'batch-giver', held.get(unasked)!, TTL_MS),
    ]);
    expect(answers).toEqual([
      { to: 'batch-taker', epoch: held.get(a)! + 1 },
      { to: 'batch-taker', epoch: held.get(b)! + 1 },
      // The same lease again: the first grant moved its epoch, so the second is no longer the owner's to give.
      null,
      null,
      null,
      null,
    ]);
    // Made in one turn, they share a statement, but for the repeated lease: a lease never shares a statement
    // with itself, so its second grant follows in a statement of its own.
    expect(grantStatements).toBe(2);
    expect((await leases.heldBy('batch-taker')).map((lease) => lease.mailboxId).sort()).toEqual([a, b].sort());
    // The gone taker's ask is dropped, the giver keeps that lease; the stale grant and the unasked one change nothing.
    expect(new Map((await leases.heldBy('batch-giver')).map((lease) => [lease.mailboxId, lease]))).toEqual(
      new Map([
        [gone, { mailboxId: gone, epoch: held.get(gone)!, handoverTo: null }],
        [stale, { mailboxId: stale, epoch: held.get(stale)!, handoverTo: 'batch-taker' }],
        [unasked, { mailboxId: unasked, epoch: held.get(unasked)!, handoverTo: null }],
      ]),
    );
  });

  it('release frees a lease at once, only for the epoch that holds it', async () => {
    const [id] = await mailboxes(1);
    await replicas.register('r1');
    await replicas.register('r2');
    const [held] = await leases.acquire([id], 'r1', TTL_MS);
    expect(await leases.release([{ mailboxId: id, epoch: held.epoch - 1 }], 'r1')).toBe(0);
    expect(await leases.release([{ mailboxId: id, epoch: held.epoch }], 'r1')).toBe(1);
    expect(await leases.acquire([id], 'r2', TTL_MS)).toEqual([{ mailboxId: id, epoch: held.epoch + 1, previousOwner: null }]);
  });

  it('two replicas racing for the same free leases: each lease has exactly one winner (30 rounds)', async () => {
    await replicas.register('racer-1');
    await replicas.register('racer-2');
    for (let round = 0; round < 30; round++) {
      const ids = await mailboxes(5);
      const [one, two] = await Promise.all([leases.acquire(ids, 'racer-1', TTL_MS), leases.acquire(ids, 'racer-2', TTL_MS)]);
      const winners = [...one, ...two].map((lease) => lease.mailboxId).sort();
      expect(winners).toEqual([...ids].sort());
      expect([...one, ...two].every((lease) => lease.epoch === 1)).toBe(true);
    }
  });

  it('liveOwners names the owner of each mailbox while it is heard from (draining too), nobody for a free or dead one', async () => {
    const [live, draining, dead, released, never] = await mailboxes(5);
    await replicas.register('owner-live');
    await replicas.register('owner-draining');
    await replicas.register('owner-dead');
    await leases.acquire([live], 'owner-live', TTL_MS);
    await leases.acquire([draining], 'owner-draining', TTL_MS);
    await leases.acquire([dead], 'owner-dead', TTL_MS);
    const [gone] = await leases.acquire([released], 'owner-live', TTL_MS);
    await leases.release([gone], 'owner-live');
    await replicas.markDraining('owner-draining');
    await silence('owner-dead', TTL_MS + 1);
    const owners = await leases.liveOwners([live, draining, dead, released, never], TTL_MS);
    expect(Object.fromEntries(owners)).toEqual({ [live]: 'owner-live', [draining]: 'owner-draining' });
    expect(await leases.liveOwners([], TTL_MS)).toEqual(new Map());
  });

  it('handoversOf: the asks for what a replica holds and the answers to its own asks, nothing else it holds', async () => {
    const [quiet, asked, wanted, gone] = await mailboxes(4);
    await replicas.register('owner-h');
    await replicas.register('asker-h');
    const [, askedLease] = await leases.acquire([quiet, asked], 'owner-h', TTL_MS);
    const [wantedLease, goneLease] = await leases.acquire([wanted, gone], 'asker-h', TTL_MS);
    await leases.requestHandover([asked], 'asker-h');
    await leases.requestHandover([wanted, gone], 'owner-h');
    // The owner sees the ask for `asked` (not `quiet`), and its own open asks with their current owner.
    const rows = await leases.handoversOf('owner-h', [wanted, gone]);
    expect(rows.sort((x, y) => x.mailboxId.localeCompare(y.mailboxId))).toEqual(
      [
        { mailboxId: asked, owner: 'owner-h', epoch: askedLease.epoch, handoverTo: 'asker-h' },
        { mailboxId: wanted, owner: 'asker-h', epoch: wantedLease.epoch, handoverTo: 'owner-h' },
        { mailboxId: gone, owner: 'asker-h', epoch: goneLease.epoch, handoverTo: 'owner-h' },
      ].sort((x, y) => x.mailboxId.localeCompare(y.mailboxId)),
    );
    // Granted: it owns `wanted` now (new epoch, no ask left); `gone` was deleted: missing.
    await leases.grantHandover(wanted, 'asker-h', wantedLease.epoch, TTL_MS);
    await queryDatabase(db.url, `DELETE FROM mailboxes WHERE id = $1`, [gone]);
    expect((await leases.handoversOf('owner-h', [wanted, gone])).find((row) => row.mailboxId === wanted)).toEqual({
      mailboxId: wanted,
      owner: 'owner-h',
      epoch: wantedLease.epoch + 1,
      handoverTo: null,
    });
    expect((await leases.handoversOf('owner-h', [wanted, gone])).map((row) => row.mailboxId).sort()).toEqual([asked, wanted].sort());
  });

  it('a deleted mailbox takes its lease with it', async () => {
    const [id] = await mailboxes(1);
    await replicas.register('d');
    await leases.acquire([id], 'd', TTL_MS);
    await queryDatabase(db.url, `DELETE FROM mailboxes WHERE id = $1`, [id]);
    expect((await leases.heldBy('d')).some((lease) => lease.mailboxId === id)).toBe(false);
  });
});
