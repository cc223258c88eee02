/**
 * Rendezvous assignment at fleet size: 100,000 mailboxes over 10 replicas (no database, no servers).
 *
 *   npm run bench:rendezvous -- [--mailboxes=100000] [--replicas=10] [--runs=5]
 *
 * Prints the time of one full assignment (best and median of the runs; it blocks the event loop that
 * long), the same with a LISTENER_MAX_MAILBOXES cap of exactly an even share (every replica full), the spread
 * over the replicas, how many mailboxes a join and a leave move, and what the same weights would cost
 * with SHA-256 truncated to 64 bits (the dependency-free alternative to XXH64).
 */
import { createHash, hash, randomUUID } from 'node:crypto';
import { assignMailboxes, MailboxAssignment } from '@app/cluster';
import { numberArg } from '../args';

function timed<T>(runs: number, work: () => T): { result: T; bestMs: number; medianMs: number } {
  work(); // warm-up: JIT and the native module's first calls
  const times: number[] = [];
  let result!: T;
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    result = work();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { result, bestMs: times[0], medianMs: times[Math.floor(times.length / 2)] };
}

function moved(before: MailboxAssignment, after: MailboxAssignment): number {
  let count = 0;
  for (const [mailbox, owner] of before.owners) if (after.owners.get(mailbox) !== owner) count++;
  return count;
}

function spread(assignment: MailboxAssignment, even: number): string {
  const counts = [...assignment.counts.values()];
  const pct = (n: number) => `${(((n - even) / even) * 100).toFixed(1)} %`;
  return `min ${Math.min(...counts)} (${pct(Math.min(...counts))}), max ${Math.max(...counts)} (${pct(Math.max(...counts))}) for an even ${even}`;
}

function main(): void {
  const mailboxCount = numberArg('mailboxes', 100_000);
  const replicaCount = numberArg('replicas', 10);
  const runs = numberArg('runs', 5);
  const mailboxes = Array.from({ length: mailboxCount }, () => randomUUID());
  const replicas = Array.from({ length: replicaCount }, (_, i) => `listener-${i}-${randomUUID().slice(0, 8)}`);
  const even = mailboxCount / replicaCount;
  console.log(`rendezvous: ${mailboxCount} mailboxes over ${replicaCount} replicas (${mailboxCount * replicaCount} weights), ${runs} runs, node ${process.version}`);

  const plain = timed(runs, () => assignMailboxes(mailboxes, replicas));
  console.log(`  ${'assignment, no cap:'.padEnd(30)}best ${plain.bestMs.toFixed(0)} ms, median ${plain.medianMs.toFixed(0)} ms; ${spread(plain.result, even)}`);

  // Exactly an even share: every replica ends full, the most work a cap can cause.
  const cap = Math.ceil(even);
  const capped = timed(runs, () => assignMailboxes(mailboxes, replicas, { maxMailboxesPerReplica: cap }));
  const turnedAway = moved(plain.result, capped.result);
  console.log(
    `  ${`assignment, cap ${cap}:`.padEnd(30)}best ${capped.bestMs.toFixed(0)} ms, median ${capped.medianMs.toFixed(0)} ms; ` +
      `${turnedAway} mailboxes placed past a full replica, ${capped.result.unowned.length} unowned`,
  );

  const joined = assignMailboxes(mailboxes, [...replicas, 'listener-joining']);
  const joinMoved = moved(plain.result, joined);
  console.log(
    `  ${`join of replica ${replicaCount + 1}:`.padEnd(30)}${joinMoved} mailboxes move (${(joinMoved / (mailboxCount / (replicaCount + 1))).toFixed(3)} × total/N; target ≤ 1.15)`,
  );
  const leaver = replicas[0];
  const left = assignMailboxes(mailboxes, replicas.slice(1));
  const leaveMoved = moved(plain.result, left);
  console.log(`  ${'leave of one replica:'.padEnd(30)}${leaveMoved} mailboxes move, the leaver held ${plain.result.counts.get(leaver)}`);

  // The same number of 64-bit weights with SHA-256, for the choice of hash (README, rendezvous.ts).
  const sha = timed(Math.min(runs, 3), () => {
    let x = 0n;
    for (const mailbox of mailboxes) for (const replica of replicas) x ^= hash('sha256', `${replica}\0${mailbox}`, 'buffer').readBigUInt64BE(0);
    return x;
  });
  const shaStream = timed(1, () => {
    let x = 0n;
    for (const mailbox of mailboxes) for (const replica of replicas) x ^= createHash('sha256').update(`${replica}\0${mailbox}`).digest().readBigUInt64BE(0);
    return x;
  });
  console.log(
    `  ${'same weights with SHA-256:'.padEnd(30)}crypto.hash best ${sha.bestMs.toFixed(0)} ms, createHash ${shaStream.bestMs.toFixed(0)} ms ` +
      `(${(sha.bestMs / plain.bestMs).toFixed(1)}× the XXH64 assignment)`,
  );
}

main();
