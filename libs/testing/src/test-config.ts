import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig, loadConfig } from '@app/config';

export const TEST_API_KEY = 'test-api-key-0123456789abcdef';

export function randomEncryptionKey(): string {
  return randomBytes(32).toString('base64');
}

/** A validated configuration for a test: real Postgres database and Redis, a temp DATA_DIR, silent logs. */
export function testConfig(databaseUrl: string, env: NodeJS.ProcessEnv = {}): AppConfig {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: '5',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    API_KEYS: TEST_API_KEY,
    ENCRYPTION_KEY: randomEncryptionKey(),
    DATA_DIR: mkdtempSync(join(tmpdir(), 'mail-listener-test-')),
    // Each suite's queues live under their own prefix in the shared Redis.
    QUEUE_PREFIX: `test-${randomBytes(6).toString('hex')}`,
    ...env,
  });
}

/** The environment of an app process joining a test's world: same database, Redis prefix, keys and data dir. */
export function appProcessEnv(config: AppConfig, listenerPort: number): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: config.database.url,
    REDIS_URL: config.redisUrl,
    QUEUE_PREFIX: config.queuePrefix,
    API_KEYS: TEST_API_KEY,
    ENCRYPTION_KEY: config.encryption.key,
    DATA_DIR: config.dataDir,
    LISTENER_PORT: String(listenerPort),
    API_HOST: '127.0.0.1',
    SYNC_RECONCILE_INTERVAL_MS: '200',
    CLUSTER_HEARTBEAT_MS: String(config.cluster.heartbeatMs),
    CLUSTER_LEASE_TTL_MS: String(config.cluster.leaseTtlMs),
  };
}
