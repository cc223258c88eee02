import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { AppConfig } from '@app/config';
import { ControlRedisServer, controlTransport } from '@app/control';
import { OAuthModuleOptions } from '@app/oauth';
import { ListenerModule } from './listener.module';

export async function createListenerApp(config: AppConfig, options: OAuthModuleOptions = {}): Promise<INestApplication> {
  const app = await NestFactory.create(ListenerModule.forRoot(config, options), { bodyParser: false, bufferLogs: true });
  app.useLogger(app.get(Logger));
  // Control messages from the API: every listener subscribes; the mailbox's owner acts (MailboxControlHandler).
  // Nest's Redis transport, with a start and a close that do not depend on Redis answering (ControlRedisServer).
  app.connectMicroservice({ strategy: new ControlRedisServer(controlTransport(config).options!) }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  return app;
}
