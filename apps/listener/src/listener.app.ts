import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { AppConfig } from '@app/config';
import { OAuthModuleOptions } from '@app/oauth';
import { ListenerModule } from './listener.module';

export async function createListenerApp(config: AppConfig, options: OAuthModuleOptions = {}): Promise<INestApplication> {
  const app = await NestFactory.create(ListenerModule.forRoot(config, options), { bodyParser: false, bufferLogs: true });
  app.useLogger(app.get(Logger));
  return app;
}
