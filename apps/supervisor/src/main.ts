import { join, resolve } from 'node:path';
import { loadConfigOrExit } from '@app/config';
import { DataSource } from 'typeorm';
import { keyRingFromConfig } from '@app/crypto';
import { dataSourceOptions, EmbeddedPostgres, runMigrations, startEmbeddedPostgres } from '@app/persistence';
import { effectiveApiKeys } from '@app/http';
import { ManagedChild, startChild, stopChild } from './child-process';

/**
 * The API streams messages of any size (reading, sending): V8's young generation otherwise grows to its
 * 16 MB ceiling once under that allocation-heavy work and stays there (a first 25 MB raw read +29 MB RSS;
 * with 1 MB semi-spaces +5.7–9.1 MB, with 2 MB +10.4–11.5 MB, at the same speed; bench:read, quiet
 * machine). deploy/k8s, docker-compose.yml and the Dockerfile start the API with the same flag.
 */
const API_NODE_FLAGS = ['--max-semi-space-size=1'];
import { errorMessage } from '@app/failures';
import { baseLogFields, prettyTransport } from '@app/logging';
import pino from 'pino';

/**
 * `npm start`: runs the API and the listener as two processes. Without DATABASE_URL it first starts the
 * embedded Postgres (PGlite under DATA_DIR/pglite) and hands its address to both. If either app dies,
 * everything stops with its exit code, so a process manager sees the failure.
 */
async function main(): Promise<void> {
  process.title = 'mail-listener';
  const config = loadConfigOrExit();
  let embedded: EmbeddedPostgres | undefined;
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (!config.database.url) {
    const dir = resolve(join(config.dataDir, 'pglite'));
    log(`DATABASE_URL is not set: starting the embedded database in ${dir}`);
    embedded = await startEmbeddedPostgres(dir);
    env.DATABASE_URL = embedded.url;
    env.DATABASE_POOL_SIZE = env.DATABASE_POOL_SIZE ?? '4';
    // PGlite is one shared session, so the advisory lock cannot serialize two apps: migrate here, once.
    await migrateEmbedded(embedded.url);
  }
  // Created before the apps start so both read the same development keys.
  if (!config.encryption.key) keyRingFromConfig(config);
  if (config.api.keys.length === 0) effectiveApiKeys(config);

  const apps = join(__dirname, '..', '..');
  const children: ManagedChild[] = [
    startChild('api', join(apps, 'api', 'src', 'main.js'), env, API_NODE_FLAGS),
    startChild('listener', join(apps, 'listener', 'src', 'main.js'), env),
  ];

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await Promise.all(children.map((child) => stopChild(child, 10_000)));
    await embedded?.stop();
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));
  for (const child of children) {
    void child.exited.then((code) => {
      if (!stopping) log(`${child.name} exited with code ${code}; stopping`);
      void stop(code === 0 ? 1 : code);
    });
  }
}

async function migrateEmbedded(url: string): Promise<void> {
  const dataSource = await new DataSource(dataSourceOptions(url, 1, 'mail-listener-supervisor')).initialize();
  try {
    const applied = await runMigrations(dataSource);
    if (applied.length) log(`Applied migrations: ${applied.join(', ')}`);
  } finally {
    await dataSource.destroy();
  }
}

// Like the apps' lines: JSON, or pino-pretty in development on a terminal (NODE_ENV defaults to development).
const logger = pino({ name: 'mail-listener-supervisor', base: baseLogFields(), transport: prettyTransport(process.env.NODE_ENV ?? 'development', process.stdout.isTTY) });

function log(message: string): void {
  logger.info(message);
}

main().catch((error: unknown) => {
  process.stderr.write(`Failed to start: ${errorMessage(error)}\n`);
  process.exit(1);
});
