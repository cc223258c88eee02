import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { PaginationQueryDto } from '@app/http';
import { IdParam } from '@app/validation';
import {
  CreateWebhookDto,
  DeliveryListQueryDto,
  DeliveryListResponse,
  DeliveryQueuedResponse,
  UpdateWebhookDto,
  WebhookCreatedResponse,
  WebhookListResponse,
  WebhookResponse,
  WebhookSecretResponse,
  WebhooksService,
} from '@app/webhooks';

/** Event ids are BullMQ job ids: no ':' and nothing a URL path cannot carry. */
const EVENT_ID = /^[^\s:\u0000-\u001f\u007f]{1,1000}$/;

function EventIdParam(): ParameterDecorator {
  return Param('eventId', {
    transform: (value: unknown) => {
      if (typeof value !== 'string' || !EVENT_ID.test(value)) throw new BadRequestException('eventId: must be an event id (1-1000 characters, no spaces, control characters or ":")');
      return value;
    },
  });
}

@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiCreatedResponse({ type: WebhookCreatedResponse, description: 'The secret is in this response only' })
  create(@Body() dto: CreateWebhookDto): Promise<WebhookCreatedResponse> {
    return this.webhooks.create(dto);
  }

  @Get()
  @ApiOkResponse({ type: WebhookListResponse })
  list(@Query() query: PaginationQueryDto): Promise<WebhookListResponse> {
    return this.webhooks.list(query.limit, query.offset);
  }

  @Get(':id')
  @ApiOkResponse({ type: WebhookResponse })
  @ApiNotFoundResponse()
  get(@IdParam() id: string): Promise<WebhookResponse> {
    return this.webhooks.get(id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: WebhookResponse })
  update(@IdParam() id: string, @Body() dto: UpdateWebhookDto): Promise<WebhookResponse> {
    return this.webhooks.update(id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted with its pending deliveries and its log' })
  remove(@IdParam() id: string): Promise<void> {
    return this.webhooks.remove(id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOkResponse({ type: WebhookSecretResponse, description: 'The new secret, shown once; the old one keeps signing too for 24 h' })
  rotateSecret(@IdParam() id: string): Promise<WebhookSecretResponse> {
    return this.webhooks.rotateSecret(id);
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: DeliveryQueuedResponse, description: 'A webhook.test event is queued for this endpoint' })
  @ApiConflictResponse({ description: 'The endpoint is disabled' })
  test(@IdParam() id: string): Promise<DeliveryQueuedResponse> {
    return this.webhooks.test(id);
  }

  @Get(':id/deliveries')
  @ApiOkResponse({ type: DeliveryListResponse, description: 'Latest attempts, newest first' })
  deliveries(@IdParam() id: string, @Query() query: DeliveryListQueryDto): Promise<DeliveryListResponse> {
    return this.webhooks.deliveries(id, query.limit);
  }

  @Post(':id/deliveries/:eventId/retry')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: DeliveryQueuedResponse })
  @ApiNotFoundResponse({ description: 'No such endpoint, or the delivery is no longer retained' })
  @ApiConflictResponse({ description: 'The delivery is already waiting or in flight, or the endpoint is disabled' })
  retry(@IdParam() id: string, @EventIdParam() eventId: string): Promise<DeliveryQueuedResponse> {
    return this.webhooks.retry(id, eventId);
  }
}
