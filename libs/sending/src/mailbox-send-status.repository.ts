import { Injectable } from '@nestjs/common';
import { SqlRunner } from '@app/events';
import { SendError } from './outbox.repository';

/**
 * All SQL of `mailbox_send_status`, whose one writer is the send worker (SendProcessor): a failure that is
 * the mailbox's rather than one message's is recorded with the send's outcome, in its transaction, and the
 * mailbox's next sent message deletes it.
 */
@Injectable()
export class MailboxSendStatusRepository {
  async record(sql: SqlRunner, mailboxId: string, error: SendError): Promise<void> {
    await sql.query(
      `INSERT INTO mailbox_send_status (mailbox_id, last_error_code, last_error_message, last_error_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (mailbox_id) DO UPDATE SET last_error_code = EXCLUDED.last_error_code, last_error_message = EXCLUDED.last_error_message, last_error_at = EXCLUDED.last_error_at`,
      [mailboxId, error.code, error.message],
    );
  }

  /** The mailbox sent: whatever stopped it before is over (a primary-key lookup when there is nothing to delete). */
  async clear(sql: SqlRunner, mailboxId: string): Promise<void> {
    await sql.query(`DELETE FROM mailbox_send_status WHERE mailbox_id = $1`, [mailboxId]);
  }
}
