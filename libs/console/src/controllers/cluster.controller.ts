import { Controller, Get, Inject, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { ClusterOverviewService } from '@app/cluster';
import { Public } from '@app/http';
import { ConsoleExceptionFilter } from '../console-exception.filter';
import { sendPage } from '../render';
import { ConsoleAuth } from '../session/console-auth';
import { ConsoleRequest, ConsoleSessionGuard } from '../session/console-session.guard';
import { clusterPage } from '../views/cluster.view';

@ApiExcludeController()
@Public() // to the API-key guard: ConsoleSessionGuard asks for the console's session instead
@UseGuards(ConsoleSessionGuard)
@UseFilters(ConsoleExceptionFilter)
@Controller('console/cluster')
export class ConsoleClusterController {
  constructor(
    private readonly cluster: ClusterOverviewService,
    @Inject(ConsoleAuth) private readonly auth: ConsoleAuth,
  ) {}

  @Get()
  async show(@Req() req: ConsoleRequest, @Res() res: Response): Promise<void> {
    sendPage(res, clusterPage(await this.cluster.overview(), this.auth.csrfFor(req.consoleSession!)));
  }
}
