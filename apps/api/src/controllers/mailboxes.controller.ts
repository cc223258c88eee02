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
import { IdParam } from '@app/validation';

@ApiTags('mailboxes')
@ApiBearerAuth()
@Controller('v1/mailboxes')
export class MailboxesController {
  constructor(
    private readonly mailboxes: MailboxesService,
    private readonly statuses: MailboxStatusService,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: MailboxResponse })
  @ApiConflictResponse({ description: 'A mailbox with this email already exists' })
  create(@Body() dto: CreateMailboxDto): Promise<MailboxResponse> {
    return this.mailboxes.create(dto);
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
  resync(@IdParam() id: string): Promise<ResyncResponse> {
    return this.mailboxes.requestResync(id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: MailboxResponse })
  update(@IdParam() id: string, @Body() dto: UpdateMailboxDto): Promise<MailboxResponse> {
    return this.mailboxes.update(id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  remove(@IdParam() id: string): Promise<void> {
    return this.mailboxes.remove(id);
  }
}
