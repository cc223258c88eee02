import { DynamicModule, Module } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '@app/config';
import { REDACT_PATHS } from './redaction';

/** pino JSON logs with secrets redacted and a request id per HTTP request. */
@Module({})
export class LoggingModule {
  static forRoot(config: AppConfig, appName: string): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            name: appName,
            level: config.logLevel,
            redact: { paths: REDACT_PATHS, censor: '[redacted]' },
            genReqId: (req) => (req.headers['x-request-id'] as string | undefined) ?? randomUUID(),
            // Query strings can carry OAuth codes and state: log the path only.
            serializers: {
              req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, path: req.url?.split('?')[0] }),
            },
            autoLogging: { ignore: (req) => ['/health/live', '/health/ready', '/metrics'].includes(req.url ?? '') },
          },
        }),
      ],
    };
  }
}
