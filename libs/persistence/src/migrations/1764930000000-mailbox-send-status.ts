import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `mailbox_send_status`: why a mailbox cannot send, while it cannot (a refused SMTP login, a certificate
 * the server fails, a server address the outbound policy refuses): one row per such mailbox, written by the
 * send worker only (its one writer) and deleted by the mailbox's next successful send. Apart from
 * `mailbox_status`, whose connection state is the listener's (IMAP may log in while SMTP refuses).
 */
export class MailboxSendStatus1764930000000 implements MigrationInterface {
  name = 'MailboxSendStatus1764930000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "mailbox_send_status" (
        "mailbox_id" uuid PRIMARY KEY REFERENCES "mailboxes" ("id") ON DELETE CASCADE,
        "last_error_code" text NOT NULL,
        "last_error_message" text NOT NULL,
        "last_error_at" timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "mailbox_send_status"`);
  }
}
