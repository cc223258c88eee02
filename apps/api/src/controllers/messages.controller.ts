import { Controller, Get, Param, Res } from '@nestjs/common';
import {
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiGatewayTimeoutResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiParam,
  ApiProduces,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { dispositionOf, MessageReader, ParsedMessageResponse, sendContent } from '@app/messages';
import { IdParam } from '@app/validation';

const REF = { name: 'ref', description: 'message.ref of the mail.received event, as it is (opaque, URL-safe)' };

/** Reading a mailbox's message for the CRM, without marking it read. */
@ApiTags('messages')
@ApiBearerAuth()
@ApiParam(REF)
@ApiBadRequestResponse({ description: 'The ref (or attachment id) is malformed; the message says what is wrong' })
@ApiNotFoundResponse({ description: 'The message is gone (expunged, deleted, UIDVALIDITY changed) or the ref belongs to another mailbox' })
@ApiConflictResponse({ description: 'The mailbox cannot be read now (token invalid or expired, login refused); `code` is the reason' })
@ApiBadGatewayResponse({ description: 'The mail server failed' })
@ApiGatewayTimeoutResponse({ description: 'The mail server did not answer in time' })
@ApiServiceUnavailableResponse({ description: 'Every IMAP session the service opens to this mailbox (MESSAGES_SESSIONS_PER_MAILBOX) stayed busy; retry shortly' })
@Controller('v1/mailboxes/:id/messages')
export class MessagesController {
  constructor(private readonly reader: MessageReader) {}

  @Get(':ref')
  @ApiOkResponse({ type: ParsedMessageResponse })
  parsed(@IdParam() id: string, @Param('ref') ref: string): Promise<ParsedMessageResponse> {
    return this.reader.parsed(id, ref);
  }

  @Get(':ref/raw')
  @ApiProduces('message/rfc822')
  @ApiOkResponse({ description: 'The message as the server stores it (MIME), streamed', schema: { type: 'string', format: 'binary' } })
  async raw(@IdParam() id: string, @Param('ref') ref: string, @Res() res: Response): Promise<void> {
    const content = await this.reader.raw(id, ref);
    sendContent(res, content, { 'Content-Disposition': dispositionOf(content, 'message.eml') });
  }

  @Get(':ref/attachments/:attachmentId')
  @ApiParam({ name: 'attachmentId', description: 'attachments[].id of the parsed message' })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ description: 'The attachment content, streamed, with its Content-Type and Content-Disposition', schema: { type: 'string', format: 'binary' } })
  async attachment(@IdParam() id: string, @Param('ref') ref: string, @Param('attachmentId') attachmentId: string, @Res() res: Response): Promise<void> {
    const content = await this.reader.attachment(id, ref, attachmentId);
    sendContent(res, content, { 'Content-Disposition': dispositionOf(content, `attachment-${attachmentId}`) });
  }
}
