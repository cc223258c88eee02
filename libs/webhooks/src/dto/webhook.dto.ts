import { ApiProperty, PickType } from '@nestjs/swagger';
import { PaginationQueryDto } from '@app/http';
import { Field, FIELD_LIMITS, httpUrl, matches } from '@app/validation';
import { ALL_EVENTS, WEBHOOK_EVENT_TYPES } from '../webhook-event-types';

const EVENT_TYPE = new RegExp(`^(${[ALL_EVENTS, ...WEBHOOK_EVENT_TYPES].map((type) => type.replace(/[.*]/g, (c) => `\\${c}`)).join('|')})$`);
const URL = { kind: 'string', maxLength: FIELD_LIMITS.url, check: httpUrl('https://crm.example.com/hooks/mail'), example: 'https://crm.example.com/hooks/mail' } as const;
const EVENTS = {
  kind: 'list',
  items: { maxLength: 64, check: matches(EVENT_TYPE, `must be "*" or one of ${WEBHOOK_EVENT_TYPES.join(', ')}`) },
  minItems: 1,
  maxItems: WEBHOOK_EVENT_TYPES.length + 1,
  unique: 'must not list the same event type twice',
  description: `Event types delivered: ["*"] for all (types added later included), or some of ${WEBHOOK_EVENT_TYPES.join(', ')}`,
  example: ['mail.received'],
} as const;
const DESCRIPTION = { kind: 'string', maxLength: FIELD_LIMITS.name, nullMeans: 'no description' } as const;

export class CreateWebhookDto {
  @Field({ ...URL, required: true })
  url: string;

  @Field({ ...EVENTS, required: true })
  events: string[];

  @Field(DESCRIPTION)
  description?: string | null;

  @Field({ kind: 'boolean', default: true })
  enabled?: boolean;
}

export class UpdateWebhookDto {
  @Field(URL)
  url?: string;

  @Field(EVENTS)
  events?: string[];

  @Field({ ...DESCRIPTION, nullMeans: 'clears it' })
  description?: string | null;

  @Field({ kind: 'boolean', description: 'false stops deliveries (pending ones wait); true resumes and clears the disabled reason' })
  enabled?: boolean;
}

export class WebhookResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() url: string;
  @ApiProperty({ type: [String] }) events: string[];
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ nullable: true, type: String, description: 'Why deliveries stopped: the endpoint answered 410, or failed for 24 h' }) disabledReason: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Until then the secret replaced by the last rotation signs too' }) previousSecretExpiresAt: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Start of the current run of failed attempts' }) failingSince: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class WebhookCreatedResponse extends WebhookResponse {
  @ApiProperty({ description: 'The signing secret (whsec_…): shown in this response only' }) secret: string;
}

export class WebhookSecretResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'The new signing secret, shown once' }) secret: string;
  @ApiProperty({ description: 'The previous secret keeps signing (a second signature) until then' }) previousSecretExpiresAt: string;
}

export class WebhookListResponse {
  @ApiProperty({ type: [WebhookResponse] }) items: WebhookResponse[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}

export class DeliveryQueuedResponse {
  @ApiProperty() eventId: string;
  @ApiProperty({ enum: ['queued'] }) state: 'queued';
}

export class DeliveryAttemptResponse {
  @ApiProperty() eventId: string;
  @ApiProperty() eventType: string;
  @ApiProperty({ description: '1 for the first attempt' }) attempt: number;
  @ApiProperty({ nullable: true, type: Number, description: 'HTTP status of the answer, null when there was none' }) status: number | null;
  @ApiProperty({ nullable: true, type: String, description: 'Why the attempt failed (status, timeout, refused address, redirect…), null when delivered' }) error: string | null;
  @ApiProperty() durationMs: number;
  @ApiProperty() at: string;
}

export class DeliveryListResponse {
  @ApiProperty({ type: [DeliveryAttemptResponse] }) items: DeliveryAttemptResponse[];
}

/** `?limit=` only, with the same rules as every list's (decimal digits, 1–500, default 50). */
export class DeliveryListQueryDto extends PickType(PaginationQueryDto, ['limit'] as const) {}
