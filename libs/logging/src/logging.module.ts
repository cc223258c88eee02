import { DynamicModule, Module } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '@app/config';
import { baseLogFields, prettyTransport } from './log-format';
import { REDACT_PATHS } from './redaction';

/**
 * pino logs with secrets redacted and a request id per HTTP request: JSON lines, or pino-pretty in
 * development on a terminal. A listener passes its replica id, which then is on every line it writes.
 */
@Module({})
export class LoggingModule {
  /**
   * `httpRequests: false` (the listener: its HTTP is health and metrics only) logs no requests. That also
   * keeps nestjs-pino's per-request AsyncLocalStorage off, which would otherwise add promise hooks to every
   * promise in the process (~7 % of the listener's CPU while it connects thousands of mailboxes).
   */
  static forRoot(config: AppConfig, appName: string, options: { httpRequests?: boolean; replicaId?: string } = {}): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          ...(options.httpRequests === false ? { forRoutes: [] } : {}),
          pinoHttp: {
            name: appName,
            level: config.logLevel,
            base: baseLogFields(options.replicaId),
            transport: prettyTransport(config.env, process.stdout.isTTY),
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
