import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The copy of a sent message in the mailbox's Sent folder (provider setting `append_to_sent`), on the
 * send's own row (libs/sending sent-copy/):
 * - `sent_copy_state`: `pending` until the send is `sent` and the copy decided; `appending` while a worker
 *   holds it (until `sent_copy_next_at`: a worker that died leaves it to be taken again); `appended`,
 *   `failed` (after a few tries, or at once when there is no Sent folder), or `not_needed` (the server
 *   keeps its own copy: Exchange Online, Gmail, Graph). Existing sent sends were never copied and stay so.
 * - `sent_copy_folder` is written before the APPEND, `sent_copy_uidvalidity`/`sent_copy_uid` (APPENDUID,
 *   RFC 4315) after it: the IMAP listener of that folder skips exactly that message (no `mail.received`
 *   for our own copy). The partial index serves that lookup, per mailbox and folder.
 */
export class SentCopies1764920000000 implements MigrationInterface {
  name = 'SentCopies1764920000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TYPE "sent_copy_state" AS ENUM ('pending', 'appending', 'appended', 'failed', 'not_needed')`);
    await q.query(`
      ALTER TABLE "mail_sends"
        ADD COLUMN "sent_copy_state" "sent_copy_state" NOT NULL DEFAULT 'pending',
        ADD COLUMN "sent_copy_attempts" integer NOT NULL DEFAULT 0,
        ADD COLUMN "sent_copy_next_at" timestamptz,
        ADD COLUMN "sent_copy_folder" text,
        ADD COLUMN "sent_copy_uidvalidity" bigint,
        ADD COLUMN "sent_copy_uid" bigint,
        ADD COLUMN "sent_copy_error" text`);
    await q.query(`UPDATE "mail_sends" SET "sent_copy_state" = 'not_needed' WHERE "state" IN ('sent', 'failed')`);
    await q.query(`CREATE INDEX "ix_mail_sends_sent_copy_due" ON "mail_sends" ("sent_copy_next_at") WHERE "state" = 'sent' AND "sent_copy_state" IN ('pending', 'appending')`);
    await q.query(`CREATE INDEX "ix_mail_sends_sent_copy_folder" ON "mail_sends" ("mailbox_id", "sent_copy_folder") WHERE "sent_copy_folder" IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "ix_mail_sends_sent_copy_folder"`);
    await q.query(`DROP INDEX "ix_mail_sends_sent_copy_due"`);
    await q.query(`
      ALTER TABLE "mail_sends" DROP COLUMN "sent_copy_state", DROP COLUMN "sent_copy_attempts", DROP COLUMN "sent_copy_next_at",
        DROP COLUMN "sent_copy_folder", DROP COLUMN "sent_copy_uidvalidity", DROP COLUMN "sent_copy_uid", DROP COLUMN "sent_copy_error"`);
    await q.query(`DROP TYPE "sent_copy_state"`);
  }
}
