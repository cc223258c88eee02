import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * OAuth lifecycle: which identity platform a provider uses and whether it runs app-only (client
 * credentials); when each token is due for refresh, how many refresh attempts failed in a row, and a
 * generation that grows with every new grant (it keys the `mailbox.auth_failed` event).
 */
export class OAuthLifecycle1763800000000 implements MigrationInterface {
  name = 'OAuthLifecycle1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TYPE "oauth_issuer" AS ENUM ('microsoft', 'google')`);
    await q.query(`ALTER TABLE "providers" ADD "oauth_issuer" "oauth_issuer"`);
    await q.query(`ALTER TABLE "providers" ADD "oauth_app_only" boolean NOT NULL DEFAULT false`);
    await q.query(`UPDATE "providers" SET "oauth_issuer" = 'microsoft' WHERE "auth_method" = 'oauth2'`);
    await q.query(`ALTER TABLE "oauth_tokens" ADD "refresh_due_at" timestamptz`);
    await q.query(`ALTER TABLE "oauth_tokens" ADD "refresh_attempts" integer NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE "oauth_tokens" ADD "generation" integer NOT NULL DEFAULT 0`);
    await q.query(`DROP INDEX "ix_oauth_tokens_state_expiry"`);
    await q.query(`CREATE INDEX "ix_oauth_tokens_refresh_due" ON "oauth_tokens" ("refresh_due_at") WHERE "state" = 'active'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "ix_oauth_tokens_refresh_due"`);
    await q.query(`CREATE INDEX "ix_oauth_tokens_state_expiry" ON "oauth_tokens" ("state", "expires_at")`);
    await q.query(`ALTER TABLE "oauth_tokens" DROP COLUMN "generation"`);
    await q.query(`ALTER TABLE "oauth_tokens" DROP COLUMN "refresh_attempts"`);
    await q.query(`ALTER TABLE "oauth_tokens" DROP COLUMN "refresh_due_at"`);
    await q.query(`ALTER TABLE "providers" DROP COLUMN "oauth_app_only"`);
    await q.query(`ALTER TABLE "providers" DROP COLUMN "oauth_issuer"`);
    await q.query(`DROP TYPE "oauth_issuer"`);
  }
}
