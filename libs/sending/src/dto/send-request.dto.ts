import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, registerDecorator, ValidateIf, ValidateNested, ValidationArguments } from 'class-validator';
import { Field, matches } from '@app/validation';
import { AddressInput, AddressListField } from './address-list';
import { SEND_LIMITS, SINGLE_LINE, SINGLE_LINE_MESSAGE } from './send-limits';

const ONE_LINE = matches(SINGLE_LINE, SINGLE_LINE_MESSAGE);
const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$/;

export class AttachmentDto {
  @Field({ kind: 'string', maxLength: SEND_LIMITS.filename, check: ONE_LINE, required: true, example: 'offer.pdf' })
  filename: string;

  @Field({
    kind: 'string',
    maxLength: SEND_LIMITS.contentType,
    check: matches(/^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+$/, 'must be a MIME type such as application/pdf'),
    description: 'Default application/octet-stream',
    example: 'application/pdf',
  })
  contentType?: string;

  @Field({
    kind: 'string',
    maxLength: SEND_LIMITS.body,
    minLength: 0,
    check: { test: (value) => BASE64.test(value) && value.replace(/[\r\n]/g, '').length % 4 === 0, message: 'must be base64 (RFC 4648, with padding)', format: 'byte' },
    required: true,
    description: 'The content, base64',
  })
  content: string;
}

/** Header names the message's own fields set (or the server does); `headers` may not set them. */
const RESERVED_HEADERS = new Set(
  ['from', 'sender', 'to', 'cc', 'bcc', 'reply-to', 'subject', 'date', 'message-id', 'in-reply-to', 'references', 'mime-version', 'content-type', 'content-transfer-encoding', 'content-disposition', 'return-path', 'received'].map(
    (name) => name,
  ),
);
const HEADER_NAME = /^[!-9;-~]+$/;

function headersProblem(value: unknown): string | undefined {
  if (value === null) return 'must not be null';
  if (typeof value !== 'object' || Array.isArray(value)) return 'must be an object of header name → value';
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > SEND_LIMITS.headers) return `must have no more than ${SEND_LIMITS.headers} headers`;
  for (const [name, header] of entries) {
    // Named by path (`headers.X-Note: …`) so the 400 names the header.
    const at = `headers.${name.slice(0, 80)}`;
    if (!HEADER_NAME.test(name) || name.length > SEND_LIMITS.headerName) return `${at}: is not a header name (printable ASCII without spaces or colon)`;
    if (RESERVED_HEADERS.has(name.toLowerCase())) return `${at}: is set from the message's own fields; it may not be given here`;
    if (typeof header !== 'string') return `${at}: must be a string`;
    if (header.length > SEND_LIMITS.headerValue) return `${at}: must be shorter than or equal to ${SEND_LIMITS.headerValue} characters`;
    if (!SINGLE_LINE.test(header)) return `${at}: ${SINGLE_LINE_MESSAGE}`;
  }
  return undefined;
}

function HeadersField(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({
      required: false,
      type: Object,
      additionalProperties: { type: 'string', maxLength: SEND_LIMITS.headerValue },
      maxProperties: SEND_LIMITS.headers,
      description: 'Extra headers (X-…, List-Unsubscribe …), one line each; not the ones the fields above set',
      example: { 'X-CRM-Ticket': '4711' },
    }),
    ValidateIf((_object: unknown, value: unknown) => value !== undefined),
    (target: object, propertyName: string | symbol) =>
      registerDecorator({
        name: 'headers',
        target: target.constructor,
        propertyName: String(propertyName),
        validator: { validate: (value: unknown) => headersProblem(value) === undefined, defaultMessage: (args?: ValidationArguments) => headersProblem(args?.value) ?? 'is invalid' },
      }),
  );
}

function AttachmentsField(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ required: false, type: [AttachmentDto], maxItems: SEND_LIMITS.attachments }),
    ValidateIf((_object: unknown, value: unknown) => value !== undefined),
    IsArray({ message: 'must be an array' }),
    ArrayMaxSize(SEND_LIMITS.attachments, { message: `must contain no more than ${SEND_LIMITS.attachments} elements` }),
    ValidateNested({ each: true, message: 'each item must be an object' }),
    Type(() => AttachmentDto),
  );
}

/**
 * `POST /v1/mailboxes/:id/outbox` as JSON. From is always the mailbox. At least one recipient in to, cc or
 * bcc; every value that becomes a header is one line (a CR or LF would inject headers).
 */
export class SendRequestDto {
  @AddressListField({ description: 'Recipients', example: ['Ben <ben@contoso.com>'] })
  to?: AddressInput[];

  @AddressListField({ description: 'Copy recipients' })
  cc?: AddressInput[];

  @AddressListField({ description: 'Blind copy recipients (in the envelope only, never in a header)' })
  bcc?: AddressInput[];

  @AddressListField({ description: 'Reply-To' })
  replyTo?: AddressInput[];

  @Field({ kind: 'string', maxLength: SEND_LIMITS.headerValue, minLength: 0, check: ONE_LINE, example: 'Your offer' })
  subject?: string;

  @Field({ kind: 'string', maxLength: SEND_LIMITS.body, minLength: 0, description: 'Plain-text body' })
  text?: string;

  @Field({ kind: 'string', maxLength: SEND_LIMITS.body, minLength: 0, description: 'HTML body' })
  html?: string;

  @Field({ kind: 'string', maxLength: SEND_LIMITS.messageId, check: ONE_LINE, description: 'Message-ID this one answers', example: '<abc@contoso.com>' })
  inReplyTo?: string;

  @Field({ kind: 'list', items: { maxLength: SEND_LIMITS.messageId, check: ONE_LINE }, maxItems: SEND_LIMITS.references, description: 'Message-IDs of the thread' })
  references?: string[];

  @HeadersField()
  headers?: Record<string, string>;

  @AttachmentsField()
  attachments?: AttachmentDto[];
}
