import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhook endpoints and their delivery log.
 * - `webhook_endpoints`: the secret is sealed (SecretBox, context `webhook:<id>:secret`); after a rotation the
 *   previous one is kept, sealed too, until `previous_secret_expires_at` (it keeps signing for 24 h).
 *   `failing_since` is the start of the current run of failed attempts (null once one succeeds): 24 h of it
 *   disables the endpoint with `disabled_reason`.
 * - `webhook_deliveries`: one row per attempt (the log `GET /v1/webhooks/:id/deliveries` shows), pruned by age.
 */
export class Webhooks1764600000000 implements MigrationInterface {
  name = 'Webhooks1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "webhook_endpoints" (
        "id" uuid PRIMARY KEY,
        "url" text NOT NULL,
        "events" text[] NOT NULL,
        "description" text,
        "enabled" boolean NOT NULL DEFAULT true,
        "disabled_reason" text,
        "secret_encrypted" text NOT NULL,
        "previous_secret_encrypted" text,
        "previous_secret_expires_at" timestamptz,
        "failing_since" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE "webhook_deliveries" (
        "seq" bigserial PRIMARY KEY,
        "endpoint_id" uuid NOT NULL REFERENCES "webhook_endpoints" ("id") ON DELETE CASCADE,
        "event_id" text NOT NULL,
        "event_type" text NOT NULL,
        "attempt" integer NOT NULL,
        "status" integer,
        "error" text,
        "duration_ms" integer NOT NULL,
        "at" timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX "ix_webhook_deliveries_endpoint" ON "webhook_deliveries" ("endpoint_id", "seq" DESC)`);
    await q.query(`CREATE INDEX "ix_webhook_deliveries_at" ON "webhook_deliveries" ("at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "webhook_deliveries"`);
    await q.query(`DROP TABLE "webhook_endpoints"`);
  }
}
