import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { ConsoleCsrfRefused, ConsoleSignInRequired } from '../console-errors';
import { ConsoleAuth } from './console-auth';
import { ConsoleSession } from './session-cookie';

export type ConsoleRequest = Request & { consoleSession?: ConsoleSession };

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * Every console page but sign-in: a valid session cookie, and on anything but GET/HEAD its CSRF token in
 * the form (`_csrf`). SameSite=Strict alone would leave older browsers and same-site pages able to post.
 */
@Injectable()
export class ConsoleSessionGuard implements CanActivate {
  constructor(@Inject(ConsoleAuth) private readonly auth: ConsoleAuth) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<ConsoleRequest>();
    const session = this.auth.session(req);
    if (!session) throw new ConsoleSignInRequired(SAFE_METHODS.has(req.method) ? req.originalUrl : '/console');
    if (!SAFE_METHODS.has(req.method) && !this.auth.csrfValid(session, (req.body as Record<string, unknown> | undefined)?._csrf)) throw new ConsoleCsrfRefused();
    req.consoleSession = session;
    return true;
  }
}
