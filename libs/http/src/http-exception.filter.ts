import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { QueryFailedError } from 'typeorm';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  /** A machine-readable reason, when the error has one (e.g. why a mailbox cannot be read now). */
  code?: string;
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
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function errorBody(statusCode: number, message: string): ErrorBody {
  return { statusCode, error: REASONS[statusCode] ?? 'Error', message };
}

/** Errors raised while reading a body (body-parser, raw-body, zlib through http-errors) carry a status. */
interface BodyReadError {
  type?: string;
  status: number;
  limit?: number;
  message: string;
}

function isBodyReadError(error: unknown): error is BodyReadError {
  if (typeof error !== 'object' || error === null || !('expose' in error)) return false;
  const status = (error as unknown as BodyReadError).status;
  return typeof status === 'number' && status >= 400 && status < 500;
}

/**
 * Where a malformed body went wrong, never what it held: V8's messages quote the input
 * (`Unexpected token 'p', "password=hunter2" is not valid JSON`), which could echo a secret back.
 */
export function malformedJsonMessage(parseError: string): string {
  const position = /position (\d+)/.exec(parseError)?.[1];
  if (position !== undefined) return `Malformed JSON body: syntax error at character ${position}`;
  if (/end of (JSON )?input/i.test(parseError)) return 'Malformed JSON body: it ends too early';
  return 'Malformed JSON body: not valid JSON';
}

function bodyReadErrorBody(error: BodyReadError): ErrorBody {
  switch (error.type) {
    case 'entity.parse.failed':
      return errorBody(400, malformedJsonMessage(error.message));
    case 'entity.too.large':
      return errorBody(413, `Request body is larger than the limit of ${error.limit ?? '?'} bytes`);
    case 'entity.verify.failed':
      return errorBody(400, error.message);
    case 'encoding.unsupported':
      return errorBody(415, 'Content-Encoding is not supported: send identity, gzip, deflate or br');
    case 'charset.unsupported':
      return errorBody(415, 'Content-Type charset is not supported: send UTF-8');
    case 'request.aborted':
      return errorBody(400, 'Request body was cut off by the client');
    case 'request.size.invalid':
      return errorBody(400, 'Request body does not match its Content-Length');
    default:
      // zlib's errors (a body that is not the gzip/deflate/br its Content-Encoding says) have no type.
      return errorBody(error.status, error.type ? `Request body could not be read (${error.type})` : 'Request body could not be decoded as its Content-Encoding says');
  }
}

/** Maps any error to `{ statusCode, error, message }`; request-side problems become 4xx, never 500. */
export function toErrorBody(error: unknown): ErrorBody | undefined {
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    const raw = typeof response === 'string' ? response : (response as { message?: unknown }).message;
    const message = Array.isArray(raw) ? raw.join('; ') : typeof raw === 'string' ? raw : error.message;
    const code = typeof response === 'object' && response !== null ? (response as { code?: unknown }).code : undefined;
    return typeof code === 'string' ? { ...errorBody(status, message), code } : errorBody(status, message);
  }
  if (isBodyReadError(error)) return bodyReadErrorBody(error);
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
    // A streamed answer already under way cannot turn into an error: cut it so the client sees it broken, never complete.
    else if (!response.writableEnded) response.destroy();
  }
}
