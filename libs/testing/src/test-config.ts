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
