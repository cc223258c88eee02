import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One lease per mailbox: which listener replica holds it and under which epoch. The epoch grows with
 * every acquisition, so a write carrying an older one (a paused "zombie" replica, an earlier incarnation
 * of a restarted one) is refused. A lease lives as long as its owner's heartbeat in listener_replicas:
 * renewing costs one write per replica, not one per mailbox. `handover_to` is a live replica asking for
 * the mailbox (rebalance, drain); the owner grants it once its last delivery is written.
 */
export class MailboxLeases1764300000000 implements MigrationInterface {
  name = 'MailboxLeases1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "mailbox_leases" (
        "mailbox_id" uuid PRIMARY KEY REFERENCES "mailboxes"("id") ON DELETE CASCADE,
        "owner_id" text,
        "epoch" bigint NOT NULL DEFAULT 0,
        "acquired_at" timestamptz,
        "handover_to" text
      )`);
    await q.query(`CREATE INDEX "ix_mailbox_leases_owner" ON "mailbox_leases" ("owner_id")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "mailbox_leases"`);
  }
}
