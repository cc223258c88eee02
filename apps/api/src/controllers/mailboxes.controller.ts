import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import {
  CreateMailboxDto,
  MailboxesService,
  MailboxListQueryDto,
  MailboxListResponse,
  MailboxResponse,
  MailboxStatusResponse,
  MailboxStatusService,
  ResyncResponse,
  UpdateMailboxDto,
} from '@app/mailboxes';
import { MailboxAnnouncer } from '@app/control';
import { IdParam } from '@app/validation';

@ApiTags('mailboxes')
@ApiBearerAuth()
@Controller('v1/mailboxes')
export class MailboxesController {
  constructor(
    private readonly mailboxes: MailboxesService,
    private readonly statuses: MailboxStatusService,
    private readonly announcer: MailboxAnnouncer,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: MailboxResponse })
  @ApiConflictResponse({ description: 'A mailbox with this email already exists' })
  async create(@Body() dto: CreateMailboxDto): Promise<MailboxResponse> {
    const created = await this.mailboxes.create(dto);
    // Announced once committed (the service returns after its transaction): the listeners act at once.
    this.announcer.announce('created', created.id);
    return created;
  }

  @Get()
  @ApiOkResponse({ type: MailboxListResponse })
  list(@Query() query: MailboxListQueryDto): Promise<MailboxListResponse> {
    return this.mailboxes.list(query);
  }

  @Get(':id')
  @ApiOkResponse({ type: MailboxResponse })
  get(@IdParam() id: string): Promise<MailboxResponse> {
    return this.mailboxes.get(id);
  }

  @Get(':id/status')
  @ApiOkResponse({ type: MailboxStatusResponse })
  status(@IdParam() id: string): Promise<MailboxStatusResponse> {
    return this.statuses.status(id);
  }

  @Post(':id/resync')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: ResyncResponse, description: 'The listener reconnects and catches up from the stored cursors within seconds' })
  async resync(@IdParam() id: string): Promise<ResyncResponse> {
    const accepted = await this.mailboxes.requestResync(id);
    this.announcer.announce('resync-requested', id);
    return accepted;
  }

  @Patch(':id')
  @ApiOkResponse({ type: MailboxResponse })
  async update(@IdParam() id: string, @Body() dto: UpdateMailboxDto): Promise<MailboxResponse> {
    const updated = await this.mailboxes.update(id, dto);
    // Settings, password, folders or enabled: `disabled` only concerns the lease holder; a change may also start it elsewhere.
    this.announcer.announce(dto.enabled === false ? 'disabled' : 'changed', id);
    return updated;
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  async remove(@IdParam() id: string): Promise<void> {
    await this.mailboxes.remove(id);
    this.announcer.announce('deleted', id);
  }
}
