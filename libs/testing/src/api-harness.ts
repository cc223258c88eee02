import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { AppConfig } from '@app/config';
import { OAuthModuleOptions } from '@app/oauth';
import { createApiApp } from '../../../apps/api/src/api.app';
import { TEST_API_KEY } from './test-config';

export interface RunningApi {
  app: INestApplication;
  url: string;
  /** supertest agent bound to the running server. */
  http: ReturnType<typeof request>;
  auth: { Authorization: string };
  close(): Promise<void>;
}

/** The real API application (all modules, real Postgres and Redis) listening on a free loopback port. */
export async function startApi(config: AppConfig, options: OAuthModuleOptions = {}): Promise<RunningApi> {
  const app = await createApiApp(config, options);
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  return {
    app,
    url: url.replace('[::1]', '127.0.0.1'),
    http: request(app.getHttpServer()),
    auth: { Authorization: `Bearer ${TEST_API_KEY}` },
    close: () => app.close(),
  };
}
