import { Body, Controller, Get, Inject, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '@app/http';
import { ConsoleExceptionFilter } from '../console-exception.filter';
import { ConsoleCsrfRefused } from '../console-errors';
import { safeReturnTo } from '../console-paths';
import { sendPage } from '../render';
import { ConsoleAuth } from '../session/console-auth';
import { ConsoleRequest, ConsoleSessionGuard } from '../session/console-session.guard';
import { signInPage } from '../views/sign-in.view';

/** Sign-in with an API key and sign-out. Public to the API-key guard: the console has its own session. */
@ApiExcludeController()
@Public()
@UseFilters(ConsoleExceptionFilter)
@Controller('console')
export class SignInController {
  constructor(@Inject(ConsoleAuth) private readonly auth: ConsoleAuth) {}

  @Get('sign-in')
  form(@Req() req: Request, @Res() res: Response, @Query('returnTo') returnTo: unknown): void {
    if (this.auth.session(req)) return res.redirect(303, safeReturnTo(returnTo));
    const pre = this.auth.preSession(req, res);
    sendPage(res, signInPage({ csrf: this.auth.csrfFor(pre), returnTo: safeReturnTo(returnTo) }));
  }

  @Post('sign-in')
  signIn(@Req() req: Request, @Res() res: Response, @Body() body: Record<string, unknown> = {}): void {
    const pre = this.auth.session(req, 'pre');
    if (!pre || !this.auth.csrfValid(pre, body._csrf)) throw new ConsoleCsrfRefused();
    const returnTo = safeReturnTo(body.returnTo);
    const outcome = this.auth.signIn(req.ip ?? req.socket.remoteAddress ?? 'unknown', body.apiKey);
    if (outcome.ok) {
      this.auth.startSession(res, outcome.session);
      return res.redirect(303, returnTo);
    }
    const csrf = this.auth.csrfFor(pre);
    if (outcome.reason === 'rate_limited') {
      const minutes = Math.ceil(outcome.retryAfterMs / 60_000);
      res.setHeader('Retry-After', String(Math.ceil(outcome.retryAfterMs / 1000)));
      return sendPage(res, signInPage({ csrf, returnTo, error: `Too many failed sign-ins from your address. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.` }), 429);
    }
    sendPage(res, signInPage({ csrf, returnTo, error: 'That API key is not valid. Check it against API_KEYS (or data/dev-api-key) and try again.' }), 401);
  }

  @Post('sign-out')
  @UseGuards(ConsoleSessionGuard)
  signOut(@Req() _req: ConsoleRequest, @Res() res: Response): void {
    this.auth.endSession(res);
    res.redirect(303, '/console/sign-in');
  }
}
