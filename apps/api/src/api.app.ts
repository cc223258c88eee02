import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import express from 'express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppConfig } from '@app/config';
import { CONSOLE_PATH, installConsole } from '@app/console';
import { GRAPH_RECEIVER_ROUTE, installGraphBodyParsing } from '@app/graph';
import { installBodyParsing } from '@app/http';
import { OAuthModuleOptions } from '@app/oauth';
import { installOutboxBodyParsing, OUTBOX_PATH } from '@app/sending';
import { ApiModule } from './api.module';

/** Builds the API application (used by main.ts and by the tests, which run the real thing). */
export async function createApiApp(config: AppConfig, options: OAuthModuleOptions = {}): Promise<INestApplication> {
  const server = express();
  // Exact paths only: `/V1/providers` or `/v1/providers/` are not the API. Express matches routes
  // case-insensitively by default; set before Nest registers routes, as Express reads it when it
  // creates its router.
  server.set('case sensitive routing', true);
  server.set('strict routing', true);
  const app = await NestFactory.create(ApiModule.forRoot(config, options), new ExpressAdapter(server), { bodyParser: false, bufferLogs: true });
  app.useLogger(app.get(Logger));
  installGraphBodyParsing(app); // before the general parsers: the Graph receiver has its own size limit
  installOutboxBodyParsing(app); // the outbox streams its body itself (messages are larger than HTTP_BODY_LIMIT): the general parsers skip it
  installConsole(app); // its own headers and form bodies: the console's pages are HTML, its forms urlencoded
  installBodyParsing(app, config.api.bodyLimit, [`/${GRAPH_RECEIVER_ROUTE}`, OUTBOX_PATH, CONSOLE_PATH]);
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Mail Listener API')
      .setDescription('Mail services (providers), mailboxes, OAuth tokens and sync status. Every /v1 route needs `Authorization: Bearer <API key>`, except the Microsoft Graph webhook (/v1/graph/*) and the OAuth callback.')
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'One of the keys in API_KEYS' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
  return app;
}
