import { createHash } from 'node:crypto';
import { xxh64 } from '@node-rs/xxhash';
import { assignMailboxes, MailboxAssignment, rendezvousOwner, rendezvousRanking, rendezvousWeight } from './rendezvous';

/** Mailbox ids shaped like Postgres' UUIDs, the same on every run (random ones would make a flaky test). */
function mailboxIds(count: number, seed = 'mailbox'): string[] {
  return Array.from({ length: count }, (_, i) => {
    const hex = createHash('sha256').update(`${seed}-${i}`).digest('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  });
}

const replicas = (count: number) => Array.from({ length: count }, (_, i) => `listener-${i}-7f9c${i}`);

function shuffled<T>(items: readonly T[]): T[] {
  return items.map((item, i) => ({ item, key: createHash('md5').update(String(i)).digest('hex') })).sort((a, b) => (a.key < b.key ? -1 : 1)).map((entry) => entry.item);
}

function moved(before: MailboxAssignment, after: MailboxAssignment): string[] {
  return [...before.owners].filter(([mailbox, owner]) => after.owners.get(mailbox) !== owner).map(([mailbox]) => mailbox);
}

describe('rendezvous assignment', () => {
  it('spreads 3,000 mailboxes over 3 replicas within 5 % of a third each', () => {
    const { counts, unowned } = assignMailboxes(mailboxIds(3000), replicas(3));
    expect(unowned).toEqual([]);
    for (const count of counts.values()) expect(Math.abs(count - 1000)).toBeLessThanOrEqual(50);
    expect([...counts.values()].reduce((a, b) => a + b)).toBe(3000);
  });

  it('spreads 20,000 mailboxes over 10 replicas within 7 % of a tenth each', () => {
    // σ of one replica's share is √(20000 × 0.1 × 0.9) ≈ 42 mailboxes (2 %): 7 % is over 3σ.
    const { counts } = assignMailboxes(mailboxIds(20_000), replicas(10));
    for (const count of counts.values()) expect(Math.abs(count - 2000)).toBeLessThanOrEqual(140);
  });

  it('gives each mailbox to the replica rendezvousOwner names, its heaviest', () => {
    const ids = mailboxIds(500);
    const live = replicas(4);
    const { owners } = assignMailboxes(ids, live);
    for (const id of ids) {
      expect(owners.get(id)).toBe(rendezvousOwner(id, live));
      const heaviest = live.reduce((best, replica) => (rendezvousWeight(id, replica) > rendezvousWeight(id, best) ? replica : best));
      expect(owners.get(id)).toBe(heaviest);
      expect(rendezvousRanking(id, live)[0]).toBe(heaviest);
    }
  });

  it('a join moves about 1/N of the mailboxes, all of them to the newcomer', () => {
    const ids = mailboxIds(3000);
    const before = assignMailboxes(ids, replicas(3));
    const after = assignMailboxes(ids, replicas(4));
    const movedIds = moved(before, after);
    expect(movedIds.length).toBeLessThanOrEqual(1.15 * (3000 / 4));
    expect(movedIds.length).toBeGreaterThanOrEqual(0.85 * (3000 / 4));
    const newcomer = replicas(4)[3];
    expect(new Set(movedIds.map((id) => after.owners.get(id)))).toEqual(new Set([newcomer]));
  });

  it("a leave moves only the leaver's mailboxes, each to its next-heaviest replica, spread over all the others", () => {
    const ids = mailboxIds(3000);
    const all = replicas(4);
    const leaver = all[1];
    const remaining = all.filter((id) => id !== leaver);
    const before = assignMailboxes(ids, all);
    const after = assignMailboxes(ids, remaining);
    const movedIds = moved(before, after);
    expect(movedIds.sort()).toEqual([...before.owners].filter(([, owner]) => owner === leaver).map(([id]) => id).sort());
    for (const id of movedIds) expect(after.owners.get(id)).toBe(rendezvousRanking(id, all)[1]);
    const takers = new Map<string, number>();
    for (const id of movedIds) {
      const taker = after.owners.get(id)!;
      takers.set(taker, (takers.get(taker) ?? 0) + 1);
    }
    expect([...takers.keys()].sort()).toEqual([...remaining].sort());
    // Each of the three others takes about a third of the leaver's share.
    for (const taken of takers.values()) expect(taken).toBeGreaterThan(movedIds.length / 3 / 1.3);
  });

  it('is deterministic: the order of either list and duplicates do not matter, and the weights are pinned', () => {
    const ids = mailboxIds(1000);
    const live = replicas(5);
    const first = assignMailboxes(ids, live, { maxMailboxesPerReplica: 190 });
    const again = assignMailboxes([...shuffled(ids), ...ids.slice(0, 10)], [...shuffled(live), live[0]], { maxMailboxesPerReplica: 190 });
    expect(again.owners).toEqual(first.owners);
    expect(again.unowned).toEqual(first.unowned);
    expect(again.counts).toEqual(first.counts);
    // XXH64 as specified (the reference empty-input value), and weights fixed for good: replicas of two
    // versions running side by side during a rolling upgrade must agree on every owner.
    expect(xxh64('')).toBe(0xef46db3751d8e999n);
    expect(rendezvousWeight('8a1c6a52-0b1e-4f5a-9a44-3f1d2c9e7b10', 'listener-0')).toBe(0x522a22b815b19ee0n);
  });

  describe('with LISTENER_MAX_MAILBOXES', () => {
    it('never gives a replica more than the cap, and leaves what is beyond every cap unowned and counted', () => {
      const ids = mailboxIds(3000);
      const { owners, unowned, counts } = assignMailboxes(ids, replicas(3), { maxMailboxesPerReplica: 900 });
      expect([...counts.values()]).toEqual([900, 900, 900]);
      expect(owners.size).toBe(2700);
      expect(unowned).toHaveLength(300);
      expect(unowned.every((id) => !owners.has(id))).toBe(true);
      expect(new Set([...owners.keys(), ...unowned])).toEqual(new Set(ids));
    });

    it('a cap no replica reaches changes nothing', () => {
      const ids = mailboxIds(3000);
      const uncapped = assignMailboxes(ids, replicas(3));
      const capped = assignMailboxes(ids, replicas(3), { maxMailboxesPerReplica: Math.max(...uncapped.counts.values()) });
      expect(capped.owners).toEqual(uncapped.owners);
      expect(capped.unowned).toEqual([]);
    });

    it('a full replica keeps the mailboxes it weighs heaviest and the others go to their next choice with room (a stable matching)', () => {
      const ids = mailboxIds(400);
      const live = replicas(5);
      const cap = 70; // 350 places for 400 mailboxes: some replicas fill up, 50 mailboxes stay unowned
      const { owners, unowned, counts } = assignMailboxes(ids, live, { maxMailboxesPerReplica: cap });
      expect(unowned).toHaveLength(50);
      const heldBy = (replica: string) => [...owners].filter(([, owner]) => owner === replica).map(([id]) => id);
      const lightestHeld = new Map(live.map((replica) => [replica, heldBy(replica).reduce((min, id) => (rendezvousWeight(id, replica) < min ? rendezvousWeight(id, replica) : min), 2n ** 64n)]));
      // Whatever replica a mailbox prefers to its owner (all of them, for an unowned one) is full of
      // mailboxes that replica weighs heavier: no pair would rather swap.
      for (const id of ids) {
        const ranking = rendezvousRanking(id, live);
        const owner = owners.get(id);
        for (const preferred of owner ? ranking.slice(0, ranking.indexOf(owner)) : ranking) {
          expect(counts.get(preferred)).toBe(cap);
          expect(lightestHeld.get(preferred)! > rendezvousWeight(id, preferred)).toBe(true);
        }
      }
    });

    it('refuses a cap that is not a positive whole number', () => {
      expect(() => assignMailboxes(['a'], ['r'], { maxMailboxesPerReplica: 0 })).toThrow(RangeError);
      expect(() => assignMailboxes(['a'], ['r'], { maxMailboxesPerReplica: 1.5 })).toThrow(RangeError);
    });
  });

  it('with no live replica every mailbox is unowned', () => {
    const ids = mailboxIds(3);
    expect(assignMailboxes(ids, [])).toEqual({ owners: new Map(), unowned: [...ids].sort(), counts: new Map() });
    expect(rendezvousOwner(ids[0], [])).toBeNull();
  });
});
