import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox of `POST /v1/mailboxes/:id/outbox`.
 * - `mail_sends`: one row per send. `message_id` is fixed when the send is accepted, so every attempt sends
 *   the same bytes under the same Message-ID. `in_flight_since` is written (and committed) after the SMTP
 *   login and before MAIL FROM/DATA, and cleared when the attempt's outcome is recorded: a worker that finds
 *   it set on a send it picks up knows a previous attempt died after the server may have accepted the
 *   message (see libs/sending send-attempt.ts). `(mailbox_id, idempotency_key)` is unique while set; a key
 *   older than 24 h is released (set to null) before it is used again.
 * - `mail_send_contents`: the composed MIME, apart so status reads never load it.
 */
export class MailSends1764860000000 implements MigrationInterface {
  name = 'MailSends1764860000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TYPE "send_state" AS ENUM ('queued', 'sending', 'sent', 'failed')`);
    await q.query(`
      CREATE TABLE "mail_sends" (
        "id" uuid PRIMARY KEY,
        "mailbox_id" uuid NOT NULL REFERENCES "mailboxes" ("id") ON DELETE CASCADE,
        "idempotency_key" text,
        "request_hash" text NOT NULL,
        "state" "send_state" NOT NULL DEFAULT 'queued',
        "message_id" text NOT NULL,
        "envelope_from" text NOT NULL,
        "envelope_to" text[] NOT NULL,
        "size" integer NOT NULL,
        "attempts" integer NOT NULL DEFAULT 0,
        "in_flight_since" timestamptz,
        "last_error_code" text,
        "last_error_message" text,
        "last_error_at" timestamptz,
        "response" text,
        "sent_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX "ux_mail_sends_idempotency" ON "mail_sends" ("mailbox_id", "idempotency_key") WHERE "idempotency_key" IS NOT NULL`);
    await q.query(`CREATE INDEX "ix_mail_sends_pending" ON "mail_sends" ("updated_at") WHERE "state" IN ('queued', 'sending')`);
    await q.query(`
      CREATE TABLE "mail_send_contents" (
        "send_id" uuid PRIMARY KEY REFERENCES "mail_sends" ("id") ON DELETE CASCADE,
        "raw" bytea NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "mail_send_contents"`);
    await q.query(`DROP TABLE "mail_sends"`);
    await q.query(`DROP TYPE "send_state"`);
  }
}
