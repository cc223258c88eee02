import { Injectable } from '@nestjs/common';
import { SendError } from './outbox.repository';

const CLEAN_FOR_MS = 60_000;
/** Bounds the memory of the marks (they are only a saving: forgetting them all costs a DELETE each). */
const MAX_REMEMBERED = 100_000;

/**
 * A write of `mailbox_send_status` that goes with a send's outcome, inside the statement that records it
 * (OutboxRepository.recordSent / recordFailed): `cte(written, param)` is a CTE body over the outcome's
 * written row (`written`, its `mailbox_id`), so it happens only when the outcome is recorded; `param`
 * numbers this write's `params`. `recorded()` after the statement committed.
 */
export interface SendStatusWrite {
  cte(written: string, param: (value: unknown) => string): string;
  recorded(): void;
}

/**
 * All SQL of `mailbox_send_status`, whose one writer is the send worker (SendProcessor): a failure that is
 * the mailbox's rather than one message's is recorded with the send's outcome, in its statement, and the
 * mailbox's next sent message deletes it.
 */
@Injectable()
export class MailboxSendStatusRepository {
  /**
   * Mailboxes this process found clean (cleared) lately, until when: their next sends skip the DELETE. A
   * failure another process records meanwhile is cleared by this one's sends at most CLEAN_FOR_MS later
   * (its own failures drop the mark at once).
   */
  private readonly cleanUntil = new Map<string, number>();

  /** The failure stops every send of the mailbox (a refused password …): the mailbox status shows it. */
  recording(mailboxId: string, error: SendError): SendStatusWrite {
    this.cleanUntil.delete(mailboxId);
    return {
      cte: (written, param) =>
        `INSERT INTO mailbox_send_status (mailbox_id, last_error_code, last_error_message, last_error_at)
         SELECT mailbox_id, ${param(error.code)}::text, ${param(error.message)}::text, now() FROM ${written}
         ON CONFLICT (mailbox_id) DO UPDATE SET last_error_code = EXCLUDED.last_error_code, last_error_message = EXCLUDED.last_error_message, last_error_at = EXCLUDED.last_error_at`,
      recorded: () => this.cleanUntil.delete(mailboxId),
    };
  }

  /** The mailbox sent: whatever stopped it before is over. Null while this process knows it clean (no write needed). */
  clearing(mailboxId: string): SendStatusWrite | null {
    if ((this.cleanUntil.get(mailboxId) ?? 0) > Date.now()) return null;
    return {
      cte: (written) => `DELETE FROM mailbox_send_status WHERE mailbox_id IN (SELECT mailbox_id FROM ${written})`,
      recorded: () => {
        if (this.cleanUntil.size >= MAX_REMEMBERED) this.cleanUntil.clear();
        this.cleanUntil.set(mailboxId, Date.now() + CLEAN_FOR_MS);
      },
    };
  }
}
