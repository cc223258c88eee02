import { BadRequestException, Controller, Get, Inject, Param, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '@app/http';
import { IdParam } from '@app/validation';
import { WebhooksService } from '@app/webhooks';
import { ConsoleExceptionFilter } from '../console-exception.filter';
import { sendPage } from '../render';
import { WebhookEndpointsService } from '../services/webhook-endpoints.service';
import { ConsoleAuth } from '../session/console-auth';
import { ConsoleRequest, ConsoleSessionGuard } from '../session/console-session.guard';
import { html, SafeHtml } from '../views/html';
import { webhookPage } from '../views/webhook.view';
import { webhooksPage } from '../views/webhooks.view';

/** Event ids are BullMQ job ids (the API's rule for the same parameter): no ':' and nothing a URL path cannot carry. */
const EVENT_ID = /^[^\s:\u0000-\u001f\u007f]{1,1000}$/;

function eventId(value: unknown): string {
  if (typeof value !== 'string' || !EVENT_ID.test(value)) throw new BadRequestException('eventId: must be an event id (1-1000 characters, no spaces, control characters or ":")');
  return value;
}

/** What the buttons did, said on the page they return to (post/redirect/get keeps reloads harmless). */
function notice(done: unknown, event: unknown): SafeHtml | undefined {
  const id = typeof event === 'string' && EVENT_ID.test(event) ? event : undefined;
  if (done === 'test') return html`Test event <code class="wrap">${id}</code> queued: it appears in the log below as soon as the endpoint answers.`;
  if (done === 'retry') return html`Delivery of <code class="wrap">${id}</code> queued again: it is attempted now, with a fresh 24 h of retries.`;
  return undefined;
}

@ApiExcludeController()
@Public() // to the API-key guard: ConsoleSessionGuard asks for the console's session instead
@UseGuards(ConsoleSessionGuard)
@UseFilters(ConsoleExceptionFilter)
@Controller('console/webhooks')
export class ConsoleWebhooksController {
  constructor(
    private readonly endpoints: WebhookEndpointsService,
    private readonly webhooks: WebhooksService,
    @Inject(ConsoleAuth) private readonly auth: ConsoleAuth,
  ) {}

  @Get()
  async index(@Req() req: ConsoleRequest, @Res() res: Response): Promise<void> {
    sendPage(res, webhooksPage(await this.endpoints.listing(), this.auth.csrfFor(req.consoleSession!)));
  }

  @Get(':id')
  async show(@Req() req: ConsoleRequest, @IdParam() id: string, @Query('done') done: unknown, @Query('event') event: unknown, @Res() res: Response): Promise<void> {
    const { endpoint, deliveries } = await this.endpoints.endpoint(id);
    sendPage(res, webhookPage({ endpoint, deliveries, csrf: this.auth.csrfFor(req.consoleSession!), notice: notice(done, event) }));
  }

  @Post(':id/test')
  async test(@IdParam() id: string, @Res() res: Response): Promise<void> {
    const queued = await this.webhooks.test(id);
    res.redirect(303, `/console/webhooks/${id}?done=test&event=${encodeURIComponent(queued.eventId)}`);
  }

  @Post(':id/deliveries/:eventId/retry')
  async retry(@IdParam() id: string, @Param('eventId') rawEventId: unknown, @Res() res: Response): Promise<void> {
    const queued = await this.webhooks.retry(id, eventId(rawEventId));
    res.redirect(303, `/console/webhooks/${id}?done=retry&event=${encodeURIComponent(queued.eventId)}`);
  }
}
