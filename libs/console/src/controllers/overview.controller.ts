import { Controller, Get, Inject, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '@app/http';
import { ConsoleExceptionFilter } from '../console-exception.filter';
import { sendPage } from '../render';
import { OverviewService } from '../services/overview.service';
import { ConsoleAuth } from '../session/console-auth';
import { ConsoleRequest, ConsoleSessionGuard } from '../session/console-session.guard';
import { overviewPage } from '../views/overview.view';

@ApiExcludeController()
@Public() // to the API-key guard: ConsoleSessionGuard asks for the console's session instead
@UseGuards(ConsoleSessionGuard)
@UseFilters(ConsoleExceptionFilter)
@Controller('console')
export class OverviewController {
  constructor(
    private readonly overview: OverviewService,
    @Inject(ConsoleAuth) private readonly auth: ConsoleAuth,
  ) {}

  @Get()
  async show(@Req() req: ConsoleRequest, @Res() res: Response): Promise<void> {
    sendPage(res, overviewPage(await this.overview.overview(), this.auth.csrfFor(req.consoleSession!)));
  }
}
