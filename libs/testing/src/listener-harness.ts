import { INestApplication } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { OAuthModuleOptions } from '@app/oauth';
import { createListenerApp } from '../../../apps/listener/src/listener.app';

export interface RunningListener {
  app: INestApplication;
  url: string;
  close(): Promise<void>;
}

/** The real listener application in-process (its schedulers run), on a free loopback port. */
export async function startListener(config: AppConfig, options: OAuthModuleOptions = {}): Promise<RunningListener> {
  const app = await createListenerApp(config, options);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, url, close: () => app.close() };
}
