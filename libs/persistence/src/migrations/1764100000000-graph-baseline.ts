import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Graph folders: the instant a folder's baseline starts from until its first delta round has stored a
 * deltaLink (first subscription: "now" or backfillSince; after a 410 reset: the overlap start). Kept in
 * the database so a failed first round retried later, or a listener restarted meanwhile, starts from the
 * same instant instead of a new "now" that would skip the mail received in between.
 */
export class GraphBaseline1764100000000 implements MigrationInterface {
  name = 'GraphBaseline1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "sync_cursors" ADD "baseline_at" timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "sync_cursors" DROP COLUMN "baseline_at"`);
  }
}
