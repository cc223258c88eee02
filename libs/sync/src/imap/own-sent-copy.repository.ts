import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** A new message of a folder that may be our own Sent copy (its From is the mailbox). */
export interface OwnSentCopyCandidate {
  uid: number;
  messageId: string | null;
}

/**
 * The IMAP listener's one read of the outbox (`mail_sends`, written by libs/sending's Sent copy): which new
 * messages of a folder are copies this service appended there itself. The copier records the folder before
 * its APPEND and the APPENDUID (UIDVALIDITY, UID) after it, so a message the listener can see is always
 * matched: exactly by UID once recorded; by Message-ID while the APPEND is in flight or when the server
 * has no UIDPLUS (no UID to record). Served by the partial index ix_mail_sends_sent_copy_folder.
 */
@Injectable()
export class OwnSentCopyRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The UIDs among `candidates` that are this mailbox's own Sent copies in `folder`. */
  async among(mailboxId: string, folder: string, uidValidity: number, candidates: OwnSentCopyCandidate[]): Promise<Set<number>> {
    const messageIds = candidates.map((c) => c.messageId).filter((id): id is string => id !== null);
    const rows = (await this.dataSource.query(
      `SELECT sent_copy_uidvalidity::text AS uid_validity, sent_copy_uid::text AS uid, message_id FROM mail_sends
        WHERE mailbox_id = $1 AND sent_copy_folder = $2
          AND ((sent_copy_uidvalidity = $3 AND sent_copy_uid = ANY($4::bigint[])) OR (sent_copy_uid IS NULL AND message_id = ANY($5::text[])))`,
      [mailboxId, folder, uidValidity, candidates.map((c) => c.uid), messageIds],
    )) as { uid_validity: string | null; uid: string | null; message_id: string }[];
    const byUid = new Set(rows.filter((row) => row.uid !== null).map((row) => Number(row.uid)));
    const byMessageId = new Set(rows.filter((row) => row.uid === null).map((row) => row.message_id));
    return new Set(candidates.filter((c) => byUid.has(c.uid) || (c.messageId !== null && byMessageId.has(c.messageId))).map((c) => c.uid));
  }
}
