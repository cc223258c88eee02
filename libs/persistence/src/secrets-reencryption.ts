import { DataSource } from 'typeorm';
import { SecretBox } from '@app/crypto';
import { secretContext } from './secret-contexts';

/** Every encrypted column, with how to find its row and its context. */
const SECRET_COLUMNS: { table: string; key: string; column: string; context: (id: string) => string }[] = [
  { table: 'providers', key: 'id', column: 'oauth_client_secret_encrypted', context: secretContext.providerClientSecret },
  { table: 'mailbox_credentials', key: 'mailbox_id', column: 'password_encrypted', context: secretContext.mailboxPassword },
  { table: 'oauth_tokens', key: 'id', column: 'access_token_encrypted', context: secretContext.tokenAccess },
  { table: 'oauth_tokens', key: 'id', column: 'refresh_token_encrypted', context: secretContext.tokenRefresh },
  { table: 'oauth_tokens', key: 'id', column: 'cache_encrypted', context: secretContext.tokenCache },
  { table: 'webhook_endpoints', key: 'id', column: 'secret_encrypted', context: secretContext.webhookSecret },
  { table: 'webhook_endpoints', key: 'id', column: 'previous_secret_encrypted', context: secretContext.webhookPreviousSecret },
];

export interface ReencryptionReport {
  examined: number;
  reencrypted: number;
}

/**
 * Re-seals every secret not sealed with the current ENCRYPTION_KEY, so an old key can be dropped from
 * ENCRYPTION_OLD_KEYS afterwards. Each value is updated only if it is unchanged since it was read.
 */
export async function reencryptSecrets(dataSource: DataSource, box: SecretBox, batchSize = 500): Promise<ReencryptionReport> {
  const report: ReencryptionReport = { examined: 0, reencrypted: 0 };
  for (const { table, key, column, context } of SECRET_COLUMNS) {
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const rows: { id: string; sealed: string }[] = await dataSource.query(
        `SELECT "${key}"::text AS id, "${column}" AS sealed FROM "${table}" WHERE "${column}" IS NOT NULL AND "${key}" > $1 ORDER BY "${key}" LIMIT $2`,
        [after, batchSize],
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        report.examined += 1;
        if (!box.needsReencryption(row.sealed)) continue;
        const resealed = box.encrypt(box.decrypt(row.sealed, context(row.id)), context(row.id));
        await dataSource.query(`UPDATE "${table}" SET "${column}" = $1 WHERE "${key}" = $2 AND "${column}" = $3`, [resealed, row.id, row.sealed]);
        report.reencrypted += 1;
      }
      after = rows[rows.length - 1].id;
    }
  }
  return report;
}
