import { FindOptionsWhere, ILike, Raw } from 'typeorm';
import { EFFECTIVE_CONNECTION_STATE_SQL } from '@app/mailbox-state';
import { ConnectionState, MailboxEntity } from '@app/persistence';

/** `%`, `_` and `\` typed in a search box are text, not LIKE wildcards. */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The SQL parts of the mailbox list's filters, as TypeORM conditions: the connection state by the rule the
 * counts use (EFFECTIVE_CONNECTION_STATE_SQL, so a filtered list's total is the overview's number), and a
 * case-insensitive search in the address or the external id (either one matching: two OR-ed conditions).
 */
export function mailboxListConditions(
  base: FindOptionsWhere<MailboxEntity>,
  filters: { state?: ConnectionState; search?: string },
): FindOptionsWhere<MailboxEntity> | FindOptionsWhere<MailboxEntity>[] {
  const where = { ...base };
  if (filters.state) {
    where.id = Raw((column) => `${column} IN (SELECT m.id FROM mailboxes m LEFT JOIN mailbox_status s ON s.mailbox_id = m.id WHERE ${EFFECTIVE_CONNECTION_STATE_SQL} = :state)`, {
      state: filters.state,
    });
  }
  const search = filters.search?.trim();
  if (!search) return where;
  const pattern = `%${likeLiteral(search)}%`;
  return [
    { ...where, email: ILike(pattern) },
    { ...where, externalId: ILike(pattern) },
  ];
}
