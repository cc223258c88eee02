import { Controller, Get, Headers, HttpCode, Post, Req } from '@nestjs/common';
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
import type { Request } from 'express';
import { StrictValidationPipe } from '@app/http';
import { IdParam } from '@app/validation';
import { SendRequestDto } from '../dto/send-request.dto';
import { SendAcceptedResponse, SendResponse } from '../dto/send.response';
import { OutboxService, SendInput } from '../outbox.service';

const validation = new StrictValidationPipe();

/** Sending from a mailbox: `POST` queues a message, `GET` tells what became of it. */
@ApiTags('outbox')
@ApiBearerAuth()
@ApiExtraModels(SendRequestDto)
@Controller('v1/mailboxes/:id/outbox')
export class OutboxController {
  constructor(private readonly outbox: OutboxService) {}

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
  async send(@IdParam() id: string, @Req() req: Request, @Headers('idempotency-key') idempotencyKey?: string): Promise<SendAcceptedResponse> {
    const input: SendInput = Buffer.isBuffer(req.body)
      ? { kind: 'raw', body: req.body }
      : { kind: 'json', dto: (await validation.transform(req.body, { type: 'body', metatype: SendRequestDto })) as SendRequestDto };
    return this.outbox.send(id, input, idempotencyKey);
  }

  @Get(':sendId')
  @ApiOkResponse({ type: SendResponse })
  @ApiNotFoundResponse({ description: 'No such send for this mailbox' })
  get(@IdParam() id: string, @IdParam('sendId') sendId: string): Promise<SendResponse> {
    return this.outbox.get(id, sendId);
  }
}
