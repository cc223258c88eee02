import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ApiKeyMatcher } from './api-key.matcher';
import { IS_PUBLIC } from './public.decorator';

export const API_KEY_MATCHER = Symbol('API_KEY_MATCHER');

/** Every /v1 route needs `Authorization: Bearer <API key>` unless marked @Public(). */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly matcher: ApiKeyMatcher,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    if (!request.path.startsWith('/v1/')) return true;
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const header = request.headers.authorization;
    if (!header) throw new UnauthorizedException('Missing Authorization header: send "Authorization: Bearer <API key>"');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new UnauthorizedException('Authorization header must be "Bearer <API key>"');
    if (!this.matcher.matches(match[1])) throw new UnauthorizedException('Invalid API key');
    return true;
  }
}
