import { MigrationInterface, QueryRunner } from 'typeorm';

/** Providers, mailboxes, their folders, encrypted credentials, OAuth tokens, sync cursors and status. */
export class InitialSchema1763700000000 implements MigrationInterface {
  name = 'InitialSchema1763700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TYPE "provider_type" AS ENUM ('imap', 'microsoft-graph')`);
    await q.query(`CREATE TYPE "login_format" AS ENUM ('email', 'local-part', 'manual')`);
    await q.query(`CREATE TYPE "auth_method" AS ENUM ('basic', 'oauth2')`);
    await q.query(`CREATE TYPE "token_state" AS ENUM ('not_obtained', 'waiting_for_authorization', 'active', 'invalid')`);
    await q.query(
      `CREATE TYPE "connection_state" AS ENUM ('pending', 'connecting', 'connected', 'backoff', 'auth_error', 'disabled')`,
    );

    await q.query(`
      CREATE TABLE "providers" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" text NOT NULL,
        "type" "provider_type" NOT NULL,
        "host" text,
        "port" integer,
        "secure" boolean NOT NULL,
        "verify_certificate" boolean NOT NULL,
        "load_emails" boolean NOT NULL,
        "send_emails" boolean NOT NULL,
        "login_format" "login_format" NOT NULL,
        "auth_method" "auth_method" NOT NULL,
        "oauth_client_id" text,
        "oauth_client_secret_encrypted" text,
        "oauth_tenant" text,
        "oauth_authority_host" text,
        "oauth_scopes" text array NOT NULL DEFAULT '{}',
        "graph_base_url" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_providers" PRIMARY KEY ("id"),
        CONSTRAINT "ck_providers_load_or_send" CHECK ("load_emails" OR "send_emails"),
        CONSTRAINT "ck_providers_port" CHECK ("port" IS NULL OR "port" BETWEEN 1 AND 65535)
      )`);
    await q.query(`
      CREATE TABLE "provider_domains" (
        "domain" text NOT NULL,
        "provider_id" uuid NOT NULL,
        CONSTRAINT "pk_provider_domains" PRIMARY KEY ("domain"),
        CONSTRAINT "fk_provider_domains_provider" FOREIGN KEY ("provider_id") REFERENCES "providers"("id") ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX "ix_provider_domains_provider" ON "provider_domains" ("provider_id")`);

    await q.query(`
      CREATE TABLE "mailboxes" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "email" text NOT NULL,
        "provider_id" uuid NOT NULL,
        "login" text NOT NULL,
        "external_id" text,
        "enabled" boolean NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_mailboxes" PRIMARY KEY ("id"),
        CONSTRAINT "uq_mailboxes_email" UNIQUE ("email"),
        CONSTRAINT "fk_mailboxes_provider" FOREIGN KEY ("provider_id") REFERENCES "providers"("id") ON DELETE RESTRICT
      )`);
    await q.query(`CREATE INDEX "ix_mailboxes_provider" ON "mailboxes" ("provider_id")`);
    await q.query(`CREATE INDEX "ix_mailboxes_external_id" ON "mailboxes" ("external_id")`);

    await q.query(`
      CREATE TABLE "mailbox_folders" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "mailbox_id" uuid NOT NULL,
        "path" text NOT NULL,
        "position" integer NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_mailbox_folders" PRIMARY KEY ("id"),
        CONSTRAINT "uq_mailbox_folders_mailbox_path" UNIQUE ("mailbox_id", "path"),
        CONSTRAINT "fk_mailbox_folders_mailbox" FOREIGN KEY ("mailbox_id") REFERENCES "mailboxes"("id") ON DELETE CASCADE
      )`);

    await q.query(`
      CREATE TABLE "mailbox_credentials" (
        "mailbox_id" uuid NOT NULL,
        "password_encrypted" text NOT NULL,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_mailbox_credentials" PRIMARY KEY ("mailbox_id"),
        CONSTRAINT "fk_mailbox_credentials_mailbox" FOREIGN KEY ("mailbox_id") REFERENCES "mailboxes"("id") ON DELETE CASCADE
      )`);

    await q.query(`
      CREATE TABLE "oauth_tokens" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "provider_id" uuid NOT NULL,
        "mailbox_id" uuid,
        "state" "token_state" NOT NULL,
        "access_token_encrypted" text,
        "refresh_token_encrypted" text,
        "cache_encrypted" text,
        "scopes" text array NOT NULL DEFAULT '{}',
        "account_username" text,
        "expires_at" timestamptz,
        "issued_at" timestamptz,
        "last_refresh_at" timestamptz,
        "last_error_code" text,
        "last_error_message" text,
        "last_error_at" timestamptz,
        "authorization" jsonb,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_oauth_tokens" PRIMARY KEY ("id"),
        CONSTRAINT "fk_oauth_tokens_provider" FOREIGN KEY ("provider_id") REFERENCES "providers"("id") ON DELETE CASCADE,
        CONSTRAINT "fk_oauth_tokens_mailbox" FOREIGN KEY ("mailbox_id") REFERENCES "mailboxes"("id") ON DELETE CASCADE
      )`);
    await q.query(`CREATE UNIQUE INDEX "uq_oauth_tokens_mailbox" ON "oauth_tokens" ("mailbox_id") WHERE "mailbox_id" IS NOT NULL`);
    await q.query(`CREATE UNIQUE INDEX "uq_oauth_tokens_app_only" ON "oauth_tokens" ("provider_id") WHERE "mailbox_id" IS NULL`);
    await q.query(`CREATE INDEX "ix_oauth_tokens_state_expiry" ON "oauth_tokens" ("state", "expires_at")`);

    await q.query(`
      CREATE TABLE "sync_cursors" (
        "folder_id" uuid NOT NULL,
        "mailbox_id" uuid NOT NULL,
        "uid_validity" bigint,
        "last_uid" bigint,
        "highest_modseq" numeric,
        "delta_link" text,
        "fence_epoch" bigint NOT NULL DEFAULT 0,
        "last_synced_at" timestamptz,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_sync_cursors" PRIMARY KEY ("folder_id"),
        CONSTRAINT "fk_sync_cursors_folder" FOREIGN KEY ("folder_id") REFERENCES "mailbox_folders"("id") ON DELETE CASCADE,
        CONSTRAINT "fk_sync_cursors_mailbox" FOREIGN KEY ("mailbox_id") REFERENCES "mailboxes"("id") ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX "ix_sync_cursors_mailbox" ON "sync_cursors" ("mailbox_id")`);

    await q.query(`
      CREATE TABLE "mailbox_status" (
        "mailbox_id" uuid NOT NULL,
        "connection_state" "connection_state" NOT NULL,
        "state_since" timestamptz NOT NULL,
        "last_error_code" text,
        "last_error_message" text,
        "last_error_at" timestamptz,
        "owner_id" text,
        "last_event_at" timestamptz,
        "last_lag_seconds" double precision,
        CONSTRAINT "pk_mailbox_status" PRIMARY KEY ("mailbox_id"),
        CONSTRAINT "fk_mailbox_status_mailbox" FOREIGN KEY ("mailbox_id") REFERENCES "mailboxes"("id") ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['mailbox_status', 'sync_cursors', 'oauth_tokens', 'mailbox_credentials', 'mailbox_folders', 'mailboxes', 'provider_domains', 'providers']) {
      await q.query(`DROP TABLE IF EXISTS "${table}"`);
    }
    for (const type of ['connection_state', 'token_state', 'auth_method', 'login_format', 'provider_type']) {
      await q.query(`DROP TYPE IF EXISTS "${type}"`);
    }
  }
}
