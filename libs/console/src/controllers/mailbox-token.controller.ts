import { Controller, Get, Inject, NotFoundException, Post, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '@app/http';
import { IdParam } from '@app/validation';
import { ConsoleExceptionFilter } from '../console-exception.filter';
import { consoleMailboxPath } from '../console-paths';
import { sendPage } from '../render';
import { MailboxTokenService } from '../services/mailbox-token.service';
import { ConsoleAuth } from '../session/console-auth';
import { ConsoleRequest, ConsoleSessionGuard } from '../session/console-session.guard';
import { browserSignInPage, tokenPanelSection } from '../views/mailbox-token.view';

/** A mailbox's OAuth token from the console: sign in with a code or the browser, delete, and the live panel. */
@ApiExcludeController()
@Public() // to the API-key guard: ConsoleSessionGuard asks for the console's session (and CSRF token) instead
@UseGuards(ConsoleSessionGuard)
@UseFilters(ConsoleExceptionFilter)
@Controller('console/mailboxes/:id/token')
export class ConsoleMailboxTokenController {
  constructor(
    private readonly tokens: MailboxTokenService,
    @Inject(ConsoleAuth) private readonly auth: ConsoleAuth,
  ) {}

  /** The panel alone, polled by the page's script while a sign-in is pending. */
  @Get('panel')
  async panel(@Req() req: ConsoleRequest, @IdParam() id: string, @Res() res: Response): Promise<void> {
    const view = await this.tokens.panel(id, this.auth.csrfFor(req.consoleSession!));
    if (!view.status.token) throw new NotFoundException(`${view.mailbox.email} signs in with a password: it has no OAuth token`);
    sendPage(res, tokenPanelSection(view, view.status.token).text);
  }

  @Post('device-code')
  async deviceCode(@IdParam() id: string, @Res() res: Response): Promise<void> {
    await this.tokens.startDeviceCode(id);
    res.redirect(303, `${consoleMailboxPath(id)}#token`);
  }

  @Post('browser-sign-in')
  async browserSignIn(@IdParam() id: string, @Res() res: Response): Promise<void> {
    const url = await this.tokens.browserSignInUrl(id);
    sendPage(res, browserSignInPage(url, { id, email: await this.tokens.email(id) }));
  }

  @Post('delete')
  async delete(@IdParam() id: string, @Res() res: Response): Promise<void> {
    await this.tokens.deleteToken(id);
    res.redirect(303, `${consoleMailboxPath(id)}#token`);
  }
}
