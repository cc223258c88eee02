import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A send's content in chunks instead of one bytea, so the API can stream a message into Postgres as it
 * arrives and the worker can stream it out, neither holding it whole (libs/sending storage/).
 * - `mail_send_chunks (send_id, part, seq, data)`: part 0 is the composed MIME that is sent; parts 1…n are
 *   an intake's decoded attachments, staged in the intake's own transaction while the JSON body is read and
 *   deleted before it commits (they never outlive it). The foreign key is DEFERRABLE INITIALLY DEFERRED:
 *   chunks are written while the body streams in and the `mail_sends` row, which needs the whole body (its
 *   envelope and request hash), is inserted last in the same transaction. ON DELETE CASCADE: pruning a send
 *   or deleting its mailbox takes its content with it.
 * - `mail_send_contents` becomes a view of the whole message (part 0, chunks in order) for people and tests
 *   reading it by hand; the service itself reads the chunks.
 * - `ix_mail_sends_final`: the pruning job's scan (final sends by age).
 * Existing contents are moved over as one chunk each.
 */
export class SendContentChunks1764940000000 implements MigrationInterface {
  name = 'SendContentChunks1764940000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "mail_send_chunks" (
        "send_id" uuid NOT NULL REFERENCES "mail_sends" ("id") ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
        "part" smallint NOT NULL,
        "seq" integer NOT NULL,
        "data" bytea NOT NULL,
        PRIMARY KEY ("send_id", "part", "seq")
      )`);
    await q.query(`INSERT INTO "mail_send_chunks" ("send_id", "part", "seq", "data") SELECT "send_id", 0, 0, "raw" FROM "mail_send_contents"`);
    await q.query(`DROP TABLE "mail_send_contents"`);
    await q.query(`
      CREATE VIEW "mail_send_contents" AS
        SELECT "send_id", string_agg("data", ''::bytea ORDER BY "seq") AS "raw" FROM "mail_send_chunks" WHERE "part" = 0 GROUP BY "send_id"`);
    await q.query(`CREATE INDEX "ix_mail_sends_final" ON "mail_sends" ("updated_at") WHERE "state" IN ('sent', 'failed')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "ix_mail_sends_final"`);
    await q.query(`DROP VIEW "mail_send_contents"`);
    await q.query(`
      CREATE TABLE "mail_send_contents" (
        "send_id" uuid PRIMARY KEY REFERENCES "mail_sends" ("id") ON DELETE CASCADE,
        "raw" bytea NOT NULL
      )`);
    await q.query(`INSERT INTO "mail_send_contents" ("send_id", "raw") SELECT "send_id", string_agg("data", ''::bytea ORDER BY "seq") FROM "mail_send_chunks" WHERE "part" = 0 GROUP BY "send_id"`);
    await q.query(`DROP TABLE "mail_send_chunks"`);
  }
}
