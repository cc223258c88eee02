import { Controller, Get, Inject, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '@app/http';
import { MailboxesService, MailboxStatusService } from '@app/mailboxes';
import { ProvidersService } from '@app/providers';
import { IdParam } from '@app/validation';
import { ConsoleExceptionFilter } from '../console-exception.filter';
import { sendPage } from '../render';
import { MailboxActionsService } from '../services/mailbox-actions.service';
import { MailboxListService } from '../services/mailbox-list.service';
import { ConsoleAuth } from '../session/console-auth';
import { ConsoleRequest, ConsoleSessionGuard } from '../session/console-session.guard';
import { mailboxPage } from '../views/mailbox.view';
import { mailboxesPage } from '../views/mailboxes.view';

/** What the buttons did, said on the page they return to (post/redirect/get keeps reloads harmless). */
const NOTICES: Record<string, string> = {
  resync: 'Resync requested: the listener reconnects and catches up from its stored cursors within seconds.',
  enabled: 'Enabled: a listener picks the mailbox up within seconds.',
  disabled: 'Disabled: the connection is closed and no events are published until it is enabled again.',
};

@ApiExcludeController()
@Public() // to the API-key guard: ConsoleSessionGuard asks for the console's session instead
@UseGuards(ConsoleSessionGuard)
@UseFilters(ConsoleExceptionFilter)
@Controller('console/mailboxes')
export class ConsoleMailboxesController {
  constructor(
    private readonly list: MailboxListService,
    private readonly mailboxes: MailboxesService,
    private readonly statuses: MailboxStatusService,
    private readonly providers: ProvidersService,
    private readonly actions: MailboxActionsService,
    @Inject(ConsoleAuth) private readonly auth: ConsoleAuth,
  ) {}

  @Get()
  async index(@Req() req: ConsoleRequest, @Query() query: Record<string, unknown>, @Res() res: Response): Promise<void> {
    sendPage(res, mailboxesPage(await this.list.listing(query), this.auth.csrfFor(req.consoleSession!)));
  }

  @Get(':id')
  async show(@Req() req: ConsoleRequest, @IdParam() id: string, @Query('done') done: unknown, @Res() res: Response): Promise<void> {
    const [mailbox, status] = await Promise.all([this.mailboxes.get(id), this.statuses.status(id)]);
    const provider = await this.providers.get(mailbox.providerId);
    sendPage(
      res,
      mailboxPage({ mailbox, status, providerName: provider.name, csrf: this.auth.csrfFor(req.consoleSession!), notice: typeof done === 'string' ? NOTICES[done] : undefined }),
    );
  }

  @Post(':id/resync')
  async resync(@IdParam() id: string, @Res() res: Response): Promise<void> {
    await this.actions.resync(id);
    res.redirect(303, `/console/mailboxes/${id}?done=resync`);
  }

  @Post(':id/enable')
  async enable(@IdParam() id: string, @Res() res: Response): Promise<void> {
    await this.actions.setEnabled(id, true);
    res.redirect(303, `/console/mailboxes/${id}?done=enabled`);
  }

  @Post(':id/disable')
  async disable(@IdParam() id: string, @Res() res: Response): Promise<void> {
    await this.actions.setEnabled(id, false);
    res.redirect(303, `/console/mailboxes/${id}?done=disabled`);
  }
}
