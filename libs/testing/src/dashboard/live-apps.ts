import { AppConfig } from '@app/config';
import { AppProcess, ENTRY_POINTS, startAppProcess, waitForHttpOk } from '../app-process';
import { freePort } from '../free-port';
import { appProcessEnv, testConfig } from '../test-config';
import { createTestDatabase, TestDatabase } from '../test-database';

/** The API and one listener as real processes on a fresh database: what Prometheus scrapes in production. */
export class LiveApps {
  private constructor(
    readonly db: TestDatabase,
    readonly config: AppConfig,
    readonly api: AppProcess,
    readonly apiUrl: string,
    readonly listener: AppProcess,
    readonly listenerUrl: string,
  ) {}

  static async start(env: NodeJS.ProcessEnv = {}): Promise<LiveApps> {
    const db = await createTestDatabase();
    const config = testConfig(db.url);
    const [apiPort, listenerPort] = [await freePort(), await freePort()];
    const base = { ...appProcessEnv(config, listenerPort), API_PORT: String(apiPort), ...env };
    const api = startAppProcess(ENTRY_POINTS.api, base);
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const listenerUrl = `http://127.0.0.1:${listenerPort}`;
    let listener: AppProcess | undefined;
    try {
      // The API applies the migrations; the listener starts once they are in.
      await waitForHttpOk(`${apiUrl}/health/ready`, api, 60_000);
      listener = startAppProcess(ENTRY_POINTS.listener, base);
      await waitForHttpOk(`${listenerUrl}/health/ready`, listener, 60_000);
      return new LiveApps(db, config, api, apiUrl, listener, listenerUrl);
    } catch (error) {
      await listener?.stop('SIGKILL');
      await api.stop('SIGKILL');
      await db.drop();
      throw error;
    }
  }

  /** The Prometheus exposition both apps serve now. */
  async metricsText(): Promise<{ api: string; listener: string }> {
    const read = async (url: string) => {
      const response = await fetch(`${url}/metrics`);
      if (!response.ok) throw new Error(`${url}/metrics answered ${response.status}`);
      return response.text();
    };
    return { api: await read(this.apiUrl), listener: await read(this.listenerUrl) };
  }

  async stop(): Promise<void> {
    await this.listener.stop();
    await this.api.stop();
    await this.db.drop();
  }
}
