/**
 * Anything that runs a statement: the DataSource (autocommit), or an EntityManager or QueryRunner inside
 * a transaction — so a repository method can join the caller's transaction.
 */
export interface SqlRunner {
  query(sql: string, parameters?: unknown[]): Promise<any>;
}
