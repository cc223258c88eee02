import { createTestDatabase, TestDatabase } from './test-database';
import { RunningApi, startApi } from './api-harness';
import { testConfig } from './test-config';

export interface ApiSuite {
  db: TestDatabase;
  api: RunningApi;
}

/**
 * Registers beforeAll/afterAll hooks for a suite that talks to the real API on its own fresh database.
 * The returned object is filled in by beforeAll; read its fields inside tests, not at definition time.
 */
export function useApiSuite(env: NodeJS.ProcessEnv = {}): ApiSuite {
  const suite = {} as ApiSuite;
  beforeAll(async () => {
    suite.db = await createTestDatabase();
    suite.api = await startApi(testConfig(suite.db.url, env));
  });
  afterAll(async () => {
    await suite.api?.close();
    await suite.db?.drop();
  });
  return suite;
}
