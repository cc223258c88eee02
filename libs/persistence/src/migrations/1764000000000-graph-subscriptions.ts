import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Microsoft Graph change-notification subscriptions, one row per live subscription (a folder briefly has
 * two while one is being replaced). The API's webhook receiver looks notifications up here by
 * subscription id; only a SHA-256 of the random clientState is stored, enough to compare in constant
 * time, useless to forge one. Cursors learn the Graph folder id, how the folder is followed, and the
 * baseline instant of a folder not synced yet.
 */
export class GraphSubscriptions1764000000000 implements MigrationInterface {
  name = 'GraphSubscriptions1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "graph_subscriptions" (
        "subscription_id" text PRIMARY KEY,
        "folder_id" uuid NOT NULL REFERENCES "mailbox_folders"("id") ON DELETE CASCADE,
        "mailbox_id" uuid NOT NULL REFERENCES "mailboxes"("id") ON DELETE CASCADE,
        "client_state_hash" bytea NOT NULL,
        "resource" text NOT NULL,
        "expires_at" timestamptz NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "renewed_at" timestamptz,
        "last_notification_at" timestamptz
      )`);
    await q.query(`CREATE INDEX "ix_graph_subscriptions_folder" ON "graph_subscriptions" ("folder_id")`);
    await q.query(`CREATE INDEX "ix_graph_subscriptions_mailbox" ON "graph_subscriptions" ("mailbox_id")`);
    await q.query(`ALTER TABLE "sync_cursors" ADD "remote_folder_id" text`);
    await q.query(`ALTER TABLE "sync_cursors" ADD "sync_mode" text`);
    // Where a Graph folder's baseline starts until its first delta round has stored a link, kept so a
    // failed first round or a restart starts from the same instant instead of a new "now".
    await q.query(`ALTER TABLE "sync_cursors" ADD "baseline_at" timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "sync_cursors" DROP COLUMN "baseline_at"`);
    await q.query(`ALTER TABLE "sync_cursors" DROP COLUMN "sync_mode"`);
    await q.query(`ALTER TABLE "sync_cursors" DROP COLUMN "remote_folder_id"`);
    await q.query(`DROP TABLE "graph_subscriptions"`);
  }
}
