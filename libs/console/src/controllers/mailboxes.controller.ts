import { Body, Controller, Get, Inject, NotFoundException, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '@app/http';
import { IdParam } from '@app/validation';
import { ConsoleExceptionFilter } from '../console-exception.filter';
import { sendPage } from '../render';
import { MailboxActionsService } from '../services/mailbox-actions.service';
import { EMPTY_MAILBOX_FORM, MailboxCreateService, mailboxFormFrom } from '../services/mailbox-create.service';
import { MailboxListService } from '../services/mailbox-list.service';
import { MailboxPageService } from '../services/mailbox-page.service';
import { ConsoleAuth } from '../session/console-auth';
import { ConsoleRequest, ConsoleSessionGuard } from '../session/console-session.guard';
import { liveSections, mailboxPage } from '../views/mailbox.view';
import { newMailboxPage } from '../views/mailbox-new.view';
import { mailboxesPage } from '../views/mailboxes.view';

/** What the buttons did, said on the page they return to (post/redirect/get keeps reloads harmless). */
const NOTICES: Record<string, string> = {
  resync: 'Resync requested: the listener reconnects and catches up from its stored cursors within seconds.',
  enabled: 'Enabled: a listener picks the mailbox up within seconds.',
  disabled: 'Disabled: the connection is closed and no events are published until it is enabled again.',
  created: 'Mailbox added. A listener picks it up within seconds: this page follows its connection by itself.',
};

@ApiExcludeController()
@Public() // to the API-key guard: ConsoleSessionGuard asks for the console's session instead
@UseGuards(ConsoleSessionGuard)
@UseFilters(ConsoleExceptionFilter)
@Controller('console/mailboxes')
export class ConsoleMailboxesController {
  constructor(
    private readonly list: MailboxListService,
    private readonly pages: MailboxPageService,
    private readonly creation: MailboxCreateService,
    private readonly actions: MailboxActionsService,
    @Inject(ConsoleAuth) private readonly auth: ConsoleAuth,
  ) {}

  @Get()
  async index(@Req() req: ConsoleRequest, @Query() query: Record<string, unknown>, @Res() res: Response): Promise<void> {
    // A fixed sentence, not the address from the URL: a crafted link could otherwise put words on the page.
    const notice = query.done === 'deleted' ? 'Mailbox deleted: it is no longer synced, and its credentials and cursors are gone.' : undefined;
    sendPage(res, mailboxesPage(await this.list.listing(query), this.auth.csrfFor(req.consoleSession!), notice));
  }

  // Before ':id' (routes match in the order they are declared): "new" and "resolve" are not mailbox ids.
  @Get('new')
  async newForm(@Req() req: ConsoleRequest, @Res() res: Response): Promise<void> {
    sendPage(res, newMailboxPage({ form: EMPTY_MAILBOX_FORM, providers: await this.creation.providerList(), csrf: this.auth.csrfFor(req.consoleSession!) }));
  }

  @Post('new')
  async create(@Req() req: ConsoleRequest, @Body() body: Record<string, unknown>, @Res() res: Response): Promise<void> {
    const form = mailboxFormFrom(body ?? {});
    const outcome = await this.creation.create(form);
    if (outcome.ok) {
      res.redirect(303, `/console/mailboxes/${outcome.mailbox.id}?done=created`);
      return;
    }
    const [providers, resolved] = await Promise.all([this.creation.providerList(), form.email.trim() && !form.providerId && !outcome.errors.byField.email ? this.creation.resolve(form.email) : undefined]);
    sendPage(res, newMailboxPage({ form, providers, resolved, errors: outcome.errors, csrf: this.auth.csrfFor(req.consoleSession!) }), outcome.status);
  }

  /** The form's "Mail service: …" line as the address is typed (GET /v1/providers/resolve, in-process). */
  @Get('resolve')
  async resolve(@Query('email') email: unknown, @Res() res: Response): Promise<void> {
    res.json(await this.creation.resolve(typeof email === 'string' ? email.slice(0, 320) : ''));
  }

  @Get(':id')
  async show(@Req() req: ConsoleRequest, @IdParam() id: string, @Query('done') done: unknown, @Res() res: Response): Promise<void> {
    const data = await this.pages.read(id);
    sendPage(res, mailboxPage({ ...data, csrf: this.auth.csrfFor(req.consoleSession!), notice: typeof done === 'string' ? NOTICES[done] : undefined }));
  }

  /** The page's changing parts, rendered as on the page, for mailbox-live.js to swap in without a reload. */
  @Get(':id/live')
  async live(@Req() req: ConsoleRequest, @IdParam() id: string, @Res() res: Response): Promise<void> {
    // Deleted meanwhile (here or through the API): said in the answer rather than as a 404, which the
    // browser would log as a failed resource on a page that did nothing wrong.
    const data = await this.pages.read(id).catch((error: unknown) => {
      if (error instanceof NotFoundException) return null;
      throw error;
    });
    if (!data) {
      res.json({ gone: true });
      return;
    }
    res.json({ state: data.status.connection.state, sections: liveSections({ ...data, csrf: this.auth.csrfFor(req.consoleSession!) }) });
  }

  @Post(':id/delete')
  async remove(@IdParam() id: string, @Res() res: Response): Promise<void> {
    await this.actions.remove(id);
    res.redirect(303, '/console/mailboxes?done=deleted');
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
