import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, freePort, TestDatabase } from '@app/testing';
import { BenchProcess, startBenchProcess, waitUntilReady } from './api-process';

export interface BenchEnvironmentOptions {
  /** LOG_LEVEL of the app processes (`info` logs every request, as in production). */
  logLevel: string;
  /** Directory for `--cpu-prof` profiles of the API (and of a phase's listener); unset: no profiling. */
  cpuProfileDir?: string;
  /** More environment for the apps (e.g. OAUTH_CA_FILE of a fake identity provider). */
  extraEnv?: NodeJS.ProcessEnv;
}

/**
 * What every phase of the Graph benchmark shares: a fresh database, a queue prefix of its own on the
 * real Redis, and the built API as its own process (its RSS and CPU are what is measured). `appEnv` is
 * the environment the API got: a phase that needs more processes (a listener) starts them with it.
 */
export interface BenchEnvironment {
  db: TestDatabase;
  redisUrl: string;
  queuePrefix: string;
  appEnv: NodeJS.ProcessEnv;
  /** node arguments for more app processes (`--cpu-prof` when profiling). */
  nodeArgs: string[];
  api: { url: string; pid: number; process: BenchProcess };
  stop(): Promise<void>;
}

export async function startBenchEnvironment(options: BenchEnvironmentOptions): Promise<BenchEnvironment> {
  const db = await createTestDatabase();
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const queuePrefix = `bench-${randomBytes(4).toString('hex')}`;
  const port = await freePort();
  const appEnv: NodeJS.ProcessEnv = {
    NODE_ENV: 'production',
    LOG_LEVEL: options.logLevel,
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: queuePrefix,
    API_KEYS: 'bench-api-key-0123456789',
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    DATA_DIR: mkdtempSync(join(tmpdir(), 'ml-bench-graph-')),
    API_HOST: '127.0.0.1',
    API_PORT: String(port),
    ...options.extraEnv,
  };
  const nodeArgs: string[] = [];
  if (options.cpuProfileDir) {
    mkdirSync(options.cpuProfileDir, { recursive: true });
    // Written when the process exits (SIGTERM closes the app and exits 0).
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`);
  }
  const api = startBenchProcess('api', appEnv, join(appEnv.DATA_DIR!, 'api.log'), nodeArgs);
  const url = `http://127.0.0.1:${port}`;
  try {
    // The API applies the migrations before it answers: the database is ready for seeding after this.
    await waitUntilReady(`${url}/health/ready`, api);
  } catch (error) {
    await api.stop();
    await db.drop().catch(() => undefined);
    throw error;
  }
  return {
    db,
    redisUrl,
    queuePrefix,
    appEnv,
    nodeArgs,
    api: { url, pid: api.pid, process: api },
    async stop() {
      const code = await api.stop();
      if (code !== 0) process.stderr.write(`API exited with ${code}:\n${api.tail()}\n`);
      await db.drop().catch(() => undefined);
    },
  };
}
