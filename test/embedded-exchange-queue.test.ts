import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

/**
 * The built embedded server in its own process, as the supervisor runs it (PGlite does not load inside
 * Jest's module sandbox): prints its URL, stops on SIGTERM.
 */
const SERVER = `
const { startEmbeddedPostgres } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'libs', 'persistence', 'src', 'embedded', 'embedded-postgres.js'))});
startEmbeddedPostgres(process.argv[1]).then((embedded) => {
  process.stdout.write(embedded.url + '\\n');
  process.on('SIGTERM', () => embedded.stop().then(() => process.exit(0)));
});
`;

/**
 * The embedded database (PGlite, one session) served to several `pg` connections at once, as `npm start`
 * serves the API's and the listener's pools: every exchange and every transaction has the session to
 * itself. pglite-socket's own server interleaved two connections' Parse/Bind/Execute messages ("unnamed
 * prepared statement does not exist" at every start).
 */
describe('embedded Postgres: one session, several connections', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ml-pglite-'));
  let server: ChildProcess;
  let url: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    server = spawn(process.execPath, ['-e', SERVER, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(server.stdout!, 'data')) as [Buffer];
    url = line.toString().trim();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
    if (server?.exitCode === null) {
      const exited = once(server, 'exit');
      server.kill('SIGTERM');
      // A session stuck for good (the failure this guards against) does not stop: killed after 5 s.
      const stuck = setTimeout(() => server.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(stuck);
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function connect(): Promise<Client> {
    const client = new Client({ connectionString: url });
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
    return client;
  }

  it('four connections at once, two in transactions, two querying with parameters: every answer right, nothing stuck', async () => {
    const connections = await Promise.all([connect(), connect(), connect(), connect()]);
    await connections[0].query('CREATE TABLE IF NOT EXISTS exchange_probe (n int)');
    const errors: string[] = [];
    let wrong = 0;
    // As the apps' pools at start: TypeORM's transactions (simple BEGIN and COMMIT around a statement with
    // parameters) beside queries with parameters (Parse, Bind, Describe, Execute, Sync). With pglite-socket's
    // own server this failed "unnamed prepared statement does not exist" within a few rounds, answered a
    // query with another's rows, and then hung.
    await Promise.all(
      connections.map(async (client, c) => {
        for (let i = 0; i < 100; i++) {
          try {
            if (c % 2) {
              await client.query('BEGIN');
              await client.query('INSERT INTO exchange_probe VALUES ($1)', [i]);
              await client.query('COMMIT');
            } else {
              const { rows } = await client.query(`SELECT $1::int + ${c} AS n`, [i]);
              if (rows[0]?.n !== i + c) wrong++;
            }
          } catch (error) {
            errors.push((error as Error).message);
            await client.query('ROLLBACK').catch(() => undefined);
          }
        }
      }),
    );
    expect([...new Set(errors)]).toEqual([]);
    expect(wrong).toBe(0);
    expect(Number((await connections[0].query('SELECT count(*) AS c FROM exchange_probe')).rows[0].c)).toBe(200);
  }, 30_000);

  /** Two connections: `a` inside a transaction that has inserted `n` into `table`, `b` outside. */
  async function oneInTransaction(table: string, n: number): Promise<[Client, Client]> {
    const [a, b] = await Promise.all([connect(), connect()]);
    await b.query(`CREATE TABLE IF NOT EXISTS ${table} (n int)`);
    await a.query('BEGIN');
    await a.query(`INSERT INTO ${table} VALUES ($1)`, [n]);
    return [a, b];
  }

  it('a transaction has the session to itself until it ends; the others wait, then see only what it committed', async () => {
    const [a, b] = await oneInTransaction('queue_probe', 1);
    let seen: number | null = null;
    const reading = b.query('SELECT count(*)::int AS c FROM queue_probe WHERE n = $1', [1]).then(({ rows }) => (seen = rows[0].c));
    // b's query is queued behind a's open transaction (a second statement of a's runs meanwhile).
    await a.query('INSERT INTO queue_probe VALUES ($1)', [1]);
    expect(seen).toBeNull();
    await a.query('COMMIT');
    await reading;
    expect(seen).toBe(2);
  }, 60_000);

  it('a connection that goes away inside its transaction gives the session back, its work rolled back', async () => {
    const [a, b] = await oneInTransaction('gone_probe', 7);
    const reading = b.query('SELECT count(*)::int AS c FROM gone_probe WHERE n = $1', [7]);
    (a as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    const { rows } = await reading;
    expect(rows[0].c).toBe(0);
  }, 60_000);
});
