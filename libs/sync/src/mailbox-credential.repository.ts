import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { answersByKey, flightBatcher, SETUP_BATCH_INTERVAL_MS } from '@app/batching';
import { findMailboxToken } from '@app/oauth';
import { OAuthTokenEntity } from '@app/persistence';

/**
 * The mailbox's encrypted password (NULL when none is stored) as a column of an enclosing statement
 * (`mailboxIdSql`: its expression for the mailbox id): the send worker reads it in the statement that
 * starts an attempt, not in one of its own (MailboxCredentials.resolve's `storedPassword`).
 */
export function encryptedPasswordColumn(mailboxIdSql: string): string {
  return `(SELECT c.password_encrypted FROM mailbox_credentials c WHERE c.mailbox_id = ${mailboxIdSql})`;
}

/** All reads of a mailbox's login secret: the encrypted password, or the OAuth token row it signs in with. */
@Injectable()
export class MailboxCredentialRepository {
  /** Stored (encrypted) passwords, read together for the mailboxes that asked while the previous read ran or in the setup pause after it. */
  private readonly encryptedPasswordOf = flightBatcher<string, string | null>({
    key: (mailboxId) => mailboxId,
    minIntervalMs: SETUP_BATCH_INTERVAL_MS,
    run: async (mailboxIds) => {
      const rows: { mailbox_id: string; password_encrypted: string }[] = await this.dataSource.query(
        `SELECT mailbox_id, password_encrypted FROM mailbox_credentials WHERE mailbox_id = ANY($1::uuid[])`,
        [mailboxIds],
      );
      return answersByKey(mailboxIds, rows, (row) => row.mailbox_id, (row) => row?.password_encrypted ?? null);
    },
  });

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The encrypted password, or null when none is stored. */
  encryptedPassword(mailboxId: string): Promise<string | null> {
    return this.encryptedPasswordOf(mailboxId);
  }

  /** The token the mailbox signs in with: its own, or its provider's app-only token. */
  token(mailbox: { id: string; providerId: string }, appOnly: boolean): Promise<OAuthTokenEntity | null> {
    return findMailboxToken(this.dataSource, mailbox, appOnly);
  }
}
