import type { DataSource } from 'typeorm';

/** Runs `work` against the real database and returns the first word of every statement it sent through `source`. */
export async function statementsOf(source: DataSource, work: () => Promise<unknown>): Promise<string[]> {
  const statements: string[] = [];
  const query = source.query;
  source.query = ((sql: string, ...rest: unknown[]) => {
    statements.push(sql.trim().split(/\s+/)[0]);
    return query.call(source, sql, ...(rest as [unknown[]?]));
  }) as DataSource['query'];
  try {
    await work();
  } finally {
    source.query = query;
  }
  return statements;
}
