import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { CONNECTION_STATES, ConnectionState } from '@app/persistence';
import { PaginationQueryDto } from '@app/http';
import { EMAIL, Field, FIELD_LIMITS, isoDateTime, UUID } from '@app/validation';

const trimLower = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value);

/** Field specs shared by create and PATCH (same limits, same messages, same OpenAPI schema). */
const LOGIN = { kind: 'string', maxLength: FIELD_LIMITS.login } as const;
const PASSWORD = { kind: 'string', maxLength: FIELD_LIMITS.password, writeOnly: true } as const;
const FOLDERS = {
  kind: 'list',
  items: { maxLength: FIELD_LIMITS.folderPath },
  minItems: 1,
  maxItems: FIELD_LIMITS.folders,
  unique: 'must not list the same folder twice',
} as const;
const EXTERNAL_ID = { kind: 'string', maxLength: FIELD_LIMITS.externalId } as const;

export class CreateMailboxDto {
  @Transform(trimLower)
  @Field({ kind: 'string', required: true, maxLength: FIELD_LIMITS.email, check: EMAIL, example: 'ana@contoso.com' })
  email: string;

  @Field({ kind: 'string', maxLength: FIELD_LIMITS.uuid, check: UUID, description: 'Omit to pick the provider that serves the email domain' })
  providerId?: string;

  @Field({ ...LOGIN, description: 'Only for providers whose loginFormat is manual; otherwise derived from the email' })
  login?: string;

  @Field({ ...PASSWORD, description: 'For basic-auth providers (write-only; never returned)' })
  password?: string;

  @Field({ ...FOLDERS, default: ['INBOX'] })
  folders?: string[];

  @Field({ ...EXTERNAL_ID, description: "The CRM's own id for this mailbox.", nullMeans: 'none (same as omitting it)' })
  externalId?: string | null;

  @Field({ kind: 'boolean', default: true })
  enabled?: boolean;

  @Field({
    kind: 'string',
    maxLength: FIELD_LIMITS.dateTime,
    check: isoDateTime('2026-11-01T00:00:00Z'),
    description: 'Publish mail received since this time on the first sync (default: start from now, no replay).',
    nullMeans: 'no backfill (same as omitting it)',
    example: '2026-11-01T00:00:00Z',
  })
  backfillSince?: string | null;
}

export class UpdateMailboxDto {
  @Field({ ...LOGIN, description: 'Only for providers whose loginFormat is manual' })
  login?: string;

  @Field({ ...PASSWORD, description: 'Replaces the stored password (write-only; never returned)' })
  password?: string;

  @Field({ ...FOLDERS, description: 'Replaces the folder list; cursors of folders kept are kept' })
  folders?: string[];

  @Field({ ...EXTERNAL_ID, description: "The CRM's own id for this mailbox.", nullMeans: 'clears it' })
  externalId?: string | null;

  @Field({ kind: 'boolean', description: 'false stops syncing (the connection is closed); true resumes' })
  enabled?: boolean;
}

export class ResyncResponse {
  @ApiProperty({ format: 'uuid' }) mailboxId: string;
  @ApiProperty() requestedAt: string;
}

export class MailboxListQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID('all', { message: 'must be a UUID' }) providerId?: string;
  @ApiPropertyOptional({ maxLength: FIELD_LIMITS.externalId }) @IsOptional() @IsString() @MaxLength(FIELD_LIMITS.externalId) externalId?: string;
  @ApiPropertyOptional({ maxLength: FIELD_LIMITS.email }) @IsOptional() @Transform(trimLower) @IsString() @MaxLength(FIELD_LIMITS.email) email?: string;

  @ApiPropertyOptional({ type: Boolean })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'must be true or false' })
  enabled?: boolean;

  @ApiPropertyOptional({ enum: CONNECTION_STATES, description: 'Connection state as GET /v1/mailboxes/:id/status and the mailboxes gauge count it (disabled: enabled=false; pending: not reported yet)' })
  @IsOptional()
  @IsIn(CONNECTION_STATES, { message: `must be one of ${CONNECTION_STATES.join(', ')}` })
  state?: ConnectionState;

  @ApiPropertyOptional({ maxLength: FIELD_LIMITS.email, description: 'Part of the email address or of externalId, case-insensitive' })
  @IsOptional()
  @IsString()
  @MaxLength(FIELD_LIMITS.email)
  search?: string;
}

export class MailboxResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() email: string;
  @ApiProperty({ format: 'uuid' }) providerId: string;
  @ApiProperty() login: string;
  @ApiProperty({ type: [String] }) folders: string[];
  @ApiProperty({ nullable: true, type: String }) externalId: string | null;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ description: 'Whether a password is stored (never returned)' }) hasPassword: boolean;
  @ApiProperty({ nullable: true, type: String }) backfillSince: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class MailboxListResponse {
  @ApiProperty({ type: [MailboxResponse] }) items: MailboxResponse[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}

