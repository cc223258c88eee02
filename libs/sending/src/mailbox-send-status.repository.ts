import { Injectable } from '@nestjs/common';
import { SqlRunner } from '@app/events';
import { SendError } from './outbox.repository';

const CLEAN_FOR_MS = 60_000;
/** Bounds the memory of the marks (they are only a saving: forgetting them all costs a DELETE each). */
const MAX_REMEMBERED = 100_000;

/**
 * All SQL of `mailbox_send_status`, whose one writer is the send worker (SendProcessor): a failure that is
 * the mailbox's rather than one message's is recorded with the send's outcome, in its transaction, and the
 * mailbox's next sent message deletes it.
 */
@Injectable()
export class MailboxSendStatusRepository {
  /**
   * Mailboxes this process found clean (cleared) lately, until when: their next sends skip the DELETE, one
   * statement of about fifteen per send. A failure another process records meanwhile is cleared by this
   * one's sends at most CLEAN_FOR_MS later (its own failures drop the mark at once).
   */
  private readonly cleanUntil = new Map<string, number>();

  async record(sql: SqlRunner, mailboxId: string, error: SendError): Promise<void> {
    this.cleanUntil.delete(mailboxId);
    await sql.query(
      `INSERT INTO mailbox_send_status (mailbox_id, last_error_code, last_error_message, last_error_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (mailbox_id) DO UPDATE SET last_error_code = EXCLUDED.last_error_code, last_error_message = EXCLUDED.last_error_message, last_error_at = EXCLUDED.last_error_at`,
      [mailboxId, error.code, error.message],
    );
  }

  /** The mailbox sent: whatever stopped it before is over. */
  async clear(sql: SqlRunner, mailboxId: string): Promise<void> {
    const now = Date.now();
    if ((this.cleanUntil.get(mailboxId) ?? 0) > now) return;
    await sql.query(`DELETE FROM mailbox_send_status WHERE mailbox_id = $1`, [mailboxId]);
    if (this.cleanUntil.size >= MAX_REMEMBERED) this.cleanUntil.clear();
    this.cleanUntil.set(mailboxId, now + CLEAN_FOR_MS);
  }
}
