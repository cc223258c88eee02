import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the listener needs to run mailboxes: a version per status change (it keys the
 * `mailbox.state_changed` event id), when authentication started failing (password mailboxes are
 * disabled after a configurable time), a resync request, and an optional backfill start for the first
 * baseline.
 */
export class MailboxRuntime1763900000000 implements MigrationInterface {
  name = 'MailboxRuntime1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "mailbox_status" ADD "state_version" bigint NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE "mailbox_status" ADD "auth_failing_since" timestamptz`);
    await q.query(`ALTER TABLE "mailbox_status" ADD "resync_requested_at" timestamptz`);
    await q.query(`ALTER TABLE "mailboxes" ADD "backfill_since" timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "mailboxes" DROP COLUMN "backfill_since"`);
    await q.query(`ALTER TABLE "mailbox_status" DROP COLUMN "resync_requested_at"`);
    await q.query(`ALTER TABLE "mailbox_status" DROP COLUMN "auth_failing_since"`);
    await q.query(`ALTER TABLE "mailbox_status" DROP COLUMN "state_version"`);
  }
}
