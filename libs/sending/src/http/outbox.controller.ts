import { Controller, Get, Headers, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiExtraModels,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiPayloadTooLargeResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { IdParam } from '@app/validation';
import { SendRequestDto } from '../dto/send-request.dto';
import { SendAcceptedResponse, SendResponse } from '../dto/send.response';
import { drainAfterFailure, requestBody } from '../intake/request-body';
import { OutboxService } from '../outbox.service';
import { MessageTooLargeException } from '../send-errors';
import { OutboxRequest, outboxJsonLimit } from './outbox-body-parsing';

/** Sending from a mailbox: `POST` queues a message, `GET` tells what became of it. */
@ApiTags('outbox')
@ApiBearerAuth()
@ApiExtraModels(SendRequestDto)
@Controller('v1/mailboxes/:id/outbox')
export class OutboxController {
  constructor(
    private readonly outbox: OutboxService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiBody({
    required: true,
    description: 'The message as JSON (composed here), or a raw message/rfc822 (sent as it is, Bcc taken out; From must be the mailbox, added when missing)',
    schema: { $ref: getSchemaPath(SendRequestDto) },
  })
  @ApiConsumes('application/json', 'message/rfc822')
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'The same key within 24 h returns the same send and sends once (a different message under a used key is a 422). 1–255 printable ASCII characters.',
  })
  @ApiAcceptedResponse({ type: SendAcceptedResponse, description: 'Queued (or, with a known Idempotency-Key, the send it names)' })
  @ApiBadRequestResponse({ description: 'Bad input: no recipient, an invalid address, CR/LF in a header value, attachment content not base64, unknown fields; the message names the field' })
  @ApiNotFoundResponse({ description: 'No such mailbox' })
  @ApiConflictResponse({ description: "The mailbox cannot send now: the provider's sendEmails is off, the mailbox is disabled, or its token is not active; `code` says which" })
  @ApiPayloadTooLargeResponse({ description: 'The message is above SEND_MAX_BYTES' })
  @ApiUnprocessableEntityResponse({ description: 'The Idempotency-Key was used in the last 24 h for a different message' })
  async send(
    @IdParam() id: string,
    @Req() req: OutboxRequest,
    @Res({ passthrough: true }) res: Response,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<SendAcceptedResponse> {
    // The body is still unread here (installOutboxBodyParsing): the service streams it into storage.
    const max = this.config.sending.maxBytes;
    const kind = req.outboxBody ?? 'json';
    try {
      const stream = requestBody(req, kind === 'raw' ? max : outboxJsonLimit(max), () => new MessageTooLargeException(null, max));
      return await this.outbox.send(id, { kind, stream }, idempotencyKey);
    } catch (error) {
      drainAfterFailure(req, res);
      throw error;
    }
  }

  @Get(':sendId')
  @ApiOkResponse({ type: SendResponse })
  @ApiNotFoundResponse({ description: 'No such send for this mailbox' })
  get(@IdParam() id: string, @IdParam('sendId') sendId: string): Promise<SendResponse> {
    return this.outbox.get(id, sendId);
  }
}
