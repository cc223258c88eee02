import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sending settings of a provider: `smtp_host`/`smtp_port`/`smtp_security` (null for Graph providers,
 * which send through sendMail) and `append_to_sent`. Existing imap providers get what the API derives for
 * them (libs/providers smtp-settings.ts): the well-known submission servers of Exchange Online and Gmail,
 * else the same host on 587 with STARTTLS; a Sent copy everywhere but Exchange Online and Gmail.
 */
export class ProviderSending1764850000000 implements MigrationInterface {
  name = 'ProviderSending1764850000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TYPE "smtp_security" AS ENUM ('tls', 'starttls', 'none')`);
    await q.query(`
      ALTER TABLE "providers"
        ADD COLUMN "smtp_host" text,
        ADD COLUMN "smtp_port" integer,
        ADD COLUMN "smtp_security" "smtp_security",
        ADD COLUMN "append_to_sent" boolean NOT NULL DEFAULT false`);
    await q.query(`
      UPDATE "providers" SET
        "smtp_host" = CASE "host" WHEN 'outlook.office365.com' THEN 'smtp.office365.com' WHEN 'imap.gmail.com' THEN 'smtp.gmail.com' ELSE "host" END,
        "smtp_port" = CASE "host" WHEN 'imap.gmail.com' THEN 465 ELSE 587 END,
        "smtp_security" = (CASE "host" WHEN 'imap.gmail.com' THEN 'tls' ELSE 'starttls' END)::"smtp_security",
        "append_to_sent" = "host" NOT IN ('outlook.office365.com', 'imap.gmail.com')
      WHERE "type" = 'imap' AND "host" IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "providers" DROP COLUMN "smtp_host", DROP COLUMN "smtp_port", DROP COLUMN "smtp_security", DROP COLUMN "append_to_sent"`);
    await q.query(`DROP TYPE "smtp_security"`);
  }
}
