import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { AppConfig } from '@app/config';
import { controlTransport } from '@app/control';
import { OAuthModuleOptions } from '@app/oauth';
import { ListenerModule } from './listener.module';

export async function createListenerApp(config: AppConfig, options: OAuthModuleOptions = {}): Promise<INestApplication> {
  const app = await NestFactory.create(ListenerModule.forRoot(config, options), { bodyParser: false, bufferLogs: true });
  app.useLogger(app.get(Logger));
  // Control messages from the API: every listener subscribes; the mailbox's owner acts (MailboxControlHandler).
  app.connectMicroservice(controlTransport(config), { inheritAppConfig: true });
  await app.startAllMicroservices();
  return app;
}
