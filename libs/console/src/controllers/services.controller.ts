import { Body, Controller, Get, Inject, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '@app/http';
import { IdParam } from '@app/validation';
import { ConsoleExceptionFilter } from '../console-exception.filter';
import { sendPage } from '../render';
import { ProviderAdminService } from '../services/provider-admin.service';
import { blankProviderForm, providerFormFromBody, providerFormOf, withoutSecrets } from '../services/provider-form';
import { ConsoleAuth } from '../session/console-auth';
import { ConsoleRequest, ConsoleSessionGuard } from '../session/console-session.guard';
import { serviceFormPage } from '../views/service-form.view';
import { servicesPage } from '../views/services.view';

/** What the last action did, said on the page it returns to (post/redirect/get keeps reloads harmless). */
const NOTICES: Record<string, string> = {
  created: 'Mail service created. Mailboxes whose address is in one of its domains are matched to it.',
  saved: 'Changes saved.',
  unchanged: 'Nothing to save: no setting was changed.',
  deleted: 'Mail service deleted.',
};

const notice = (done: unknown) => (typeof done === 'string' ? NOTICES[done] : undefined);

/** Mail services (the API's providers): list, add, edit, delete, through the API's ProvidersService. */
@ApiExcludeController()
@Public() // to the API-key guard: ConsoleSessionGuard asks for the console's session instead
@UseGuards(ConsoleSessionGuard)
@UseFilters(ConsoleExceptionFilter)
@Controller('console/services')
export class ConsoleServicesController {
  constructor(
    private readonly services: ProviderAdminService,
    @Inject(ConsoleAuth) private readonly auth: ConsoleAuth,
  ) {}

  @Get()
  async index(@Req() req: ConsoleRequest, @Query('done') done: unknown, @Res() res: Response): Promise<void> {
    sendPage(res, servicesPage(await this.services.listing(), this.csrf(req), notice(done)));
  }

  @Get('new')
  form(@Req() req: ConsoleRequest, @Res() res: Response): void {
    sendPage(res, serviceFormPage({ csrf: this.csrf(req), values: blankProviderForm() }));
  }

  @Post()
  async create(@Req() req: ConsoleRequest, @Body() body: Record<string, unknown>, @Res() res: Response): Promise<void> {
    const values = providerFormFromBody(body);
    const outcome = await this.services.create(values);
    if (outcome.ok) return res.redirect(303, `/console/services/${outcome.provider.id}?done=created`);
    sendPage(res, serviceFormPage({ csrf: this.csrf(req), values: withoutSecrets(values), problems: outcome.problems }), outcome.status);
  }

  @Get(':id')
  async edit(@Req() req: ConsoleRequest, @IdParam() id: string, @Query('done') done: unknown, @Res() res: Response): Promise<void> {
    const provider = await this.services.get(id);
    sendPage(res, serviceFormPage({ csrf: this.csrf(req), values: providerFormOf(provider), provider, notice: notice(done) }));
  }

  @Post(':id')
  async update(@Req() req: ConsoleRequest, @IdParam() id: string, @Body() body: Record<string, unknown>, @Res() res: Response): Promise<void> {
    const values = providerFormFromBody(body);
    const outcome = await this.services.update(id, values);
    if (outcome.ok) return res.redirect(303, `/console/services/${id}?done=${'unchanged' in outcome ? 'unchanged' : 'saved'}`);
    const provider = await this.services.get(id);
    sendPage(res, serviceFormPage({ csrf: this.csrf(req), values: withoutSecrets(values), provider, problems: outcome.problems }), outcome.status);
  }

  @Post(':id/delete')
  async remove(@Req() req: ConsoleRequest, @IdParam() id: string, @Res() res: Response): Promise<void> {
    const outcome = await this.services.remove(id);
    if (outcome.ok) return res.redirect(303, '/console/services?done=deleted');
    const provider = await this.services.get(id);
    sendPage(res, serviceFormPage({ csrf: this.csrf(req), values: providerFormOf(provider), provider, deleteRefused: outcome.message }), outcome.status);
  }

  private csrf(req: ConsoleRequest): string {
    return this.auth.csrfFor(req.consoleSession!);
  }
}
