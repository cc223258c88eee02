import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { QueryFailedError } from 'typeorm';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function errorBody(statusCode: number, message: string): ErrorBody {
  return { statusCode, error: REASONS[statusCode] ?? 'Error', message };
}

/** Errors thrown by express' body parser carry a `type` and a status. */
interface BodyParserError {
  type: string;
  status?: number;
  limit?: number;
  message: string;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return typeof error === 'object' && error !== null && typeof (error as BodyParserError).type === 'string' && 'expose' in error;
}

/** Maps any error to `{ statusCode, error, message }`; request-side problems become 4xx, never 500. */
export function toErrorBody(error: unknown): ErrorBody | undefined {
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    const raw = typeof response === 'string' ? response : (response as { message?: unknown }).message;
    const message = Array.isArray(raw) ? raw.join('; ') : typeof raw === 'string' ? raw : error.message;
    return errorBody(status, message);
  }
  if (isBodyParserError(error)) {
    switch (error.type) {
      case 'entity.parse.failed':
        return errorBody(400, `Malformed JSON body: ${error.message}`);
      case 'entity.too.large':
        return errorBody(413, `Request body is larger than the limit of ${error.limit ?? '?'} bytes`);
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return errorBody(415, error.message);
      default:
        if (error.status && error.status >= 400 && error.status < 500) return errorBody(error.status, error.message);
    }
  }
  if (error instanceof QueryFailedError) {
    const code = (error.driverError as { code?: string } | undefined)?.code;
    if (code === '22P02' || code === '22003') return errorBody(400, 'A value in the request has the wrong format');
    if (code === '23505') return errorBody(409, 'The resource already exists');
  }
  return undefined;
}

function isHealthReport(response: unknown): boolean {
  return typeof response === 'object' && response !== null && 'details' in response && 'status' in response;
}

@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (error instanceof HttpException && isHealthReport(error.getResponse())) {
      // Terminus' readiness report says which dependency is down: keep it whole.
      response.status(error.getStatus()).json(error.getResponse());
      return;
    }
    let body = toErrorBody(error);
    if (!body) {
      // Only the error's class and message are logged: request bodies (which may hold secrets) never are.
      this.logger.error(error instanceof Error ? `${error.name}: ${error.message}` : 'Unknown error', error instanceof Error ? error.stack : undefined);
      body = errorBody(HttpStatus.INTERNAL_SERVER_ERROR, 'Internal server error');
    }
    if (!response.headersSent) response.status(body.statusCode).json(body);
  }
}
