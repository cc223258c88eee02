import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ApiKeyMatcher } from './api-key.matcher';
import { IS_PUBLIC } from './public.decorator';

export const API_KEY_MATCHER = Symbol('API_KEY_MATCHER');

/**
 * Every route needs `Authorization: Bearer <API key>` unless its handler or controller is marked
 * @Public(). The decision never looks at the request's path: a path test (`startsWith('/v1/')`) let
 * `/V1/providers` through, because the router matched it case-insensitively and the test did not.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly matcher: ApiKeyMatcher,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]) === true) return true;
    const header = context.switchToHttp().getRequest<Request>().headers.authorization;
    if (!header) throw new UnauthorizedException('Missing Authorization header: send "Authorization: Bearer <API key>"');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new UnauthorizedException('Authorization header must be "Bearer <API key>"');
    if (!this.matcher.matches(match[1])) throw new UnauthorizedException('Invalid API key');
    return true;
  }
}
