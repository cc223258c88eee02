import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject, Logger, Optional } from '@nestjs/common';
import type { Response } from 'express';
import { ConsoleSignInRequired } from './console-errors';
import { sectionOf } from './console-paths';
import { sendPage } from './render';
import { ConsoleAuth } from './session/console-auth';
import type { ConsoleRequest } from './session/console-session.guard';
import { errorPage, ErrorPageSession } from './views/error.view';

const TITLES: Record<number, string> = { 400: 'That request was not valid', 403: 'Not allowed', 404: 'Not found', 409: 'Not possible right now', 429: 'Too many requests' };

/**
 * Console errors as pages, not the API's JSON: no session → the sign-in page (303, remembering where the
 * person was going); an HttpException → its message, which the services write for people; anything else
 * → a generic 500 (the details go to the log, never to the page).
 */
@Catch()
export class ConsoleExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Console');

  constructor(@Optional() @Inject(ConsoleAuth) private readonly auth?: ConsoleAuth) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<ConsoleRequest>();
    // Signed in (the guard let the request through): the error page keeps the sections, so the way on is one click.
    const session: ErrorPageSession | undefined =
      req.consoleSession && this.auth ? { csrf: this.auth.csrfFor(req.consoleSession), section: sectionOf(req.path) } : undefined;
    if (error instanceof ConsoleSignInRequired) {
      res.redirect(303, `/console/sign-in?returnTo=${encodeURIComponent(error.returnTo)}`);
      return;
    }
    if (error instanceof HttpException) {
      const status = error.getStatus();
      const body = error.getResponse();
      const raw = typeof body === 'string' ? body : (body as { message?: unknown }).message;
      const message = Array.isArray(raw) ? raw.join('; ') : String(raw ?? error.message);
      sendPage(res, errorPage(status, TITLES[status] ?? 'Something went wrong', message, session), status);
      return;
    }
    this.logger.error(`Console page failed: ${error instanceof Error ? error.stack : String(error)}`);
    sendPage(res, errorPage(500, 'Something went wrong', 'The console could not show this page. The error is in the API log; try again in a moment.', session), 500);
  }
}
