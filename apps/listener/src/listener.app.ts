import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { AppConfig } from '@app/config';
import { ListenerModule } from './listener.module';

export async function createListenerApp(config: AppConfig): Promise<INestApplication> {
  const app = await NestFactory.create(ListenerModule.forRoot(config), { bodyParser: false, bufferLogs: true });
  app.useLogger(app.get(Logger));
  return app;
}
