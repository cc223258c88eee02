import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsEmail,
  IsISO8601,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import { PaginationQueryDto } from '@app/http';

const trimLower = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value);

export class CreateMailboxDto {
  @ApiProperty({ example: 'ana@contoso.com' })
  @Transform(trimLower)
  @IsEmail({ allow_display_name: false, require_tld: false }, { message: 'must be an email address such as ana@contoso.com' })
  @MaxLength(320)
  email: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Omit to pick the provider that serves the email domain' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a UUID' })
  providerId?: string;

  @ApiPropertyOptional({ description: "Only for providers whose loginFormat is manual; otherwise derived from the email" })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(320)
  login?: string;

  @ApiPropertyOptional({ description: 'For basic-auth providers (write-only; never returned)', writeOnly: true })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  password?: string;

  @ApiPropertyOptional({ type: [String], default: ['INBOX'] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @ArrayUnique({ message: 'must not list the same folder twice' })
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(1000, { each: true })
  folders?: string[];

  @ApiPropertyOptional({ description: "The CRM's own id for this mailbox", nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  externalId?: string | null;

  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() enabled?: boolean;

  @ApiPropertyOptional({ description: 'Publish mail received since this time on the first sync (default: start from now, no replay)', example: '2026-11-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'must be an ISO 8601 date such as 2026-11-01T00:00:00Z' })
  backfillSince?: string;
}

export class UpdateMailboxDto {
  @ApiPropertyOptional({ description: 'Only for providers whose loginFormat is manual' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(320)
  login?: string;

  @ApiPropertyOptional({ writeOnly: true }) @IsOptional() @IsString() @IsNotEmpty() @MaxLength(1024) password?: string;

  @ApiPropertyOptional({ type: [String], description: 'Replaces the folder list; cursors of folders kept are kept' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @ArrayUnique({ message: 'must not list the same folder twice' })
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(1000, { each: true })
  folders?: string[];

  @ApiPropertyOptional({ nullable: true, type: String, description: 'null clears it' })
  @ValidateIf((_, value) => value !== null && value !== undefined)
  @IsString()
  @MaxLength(255)
  externalId?: string | null;

  @ApiPropertyOptional() @IsOptional() @IsBoolean() enabled?: boolean;
}

export class ResyncResponse {
  @ApiProperty({ format: 'uuid' }) mailboxId: string;
  @ApiProperty() requestedAt: string;
}

export class MailboxListQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID('all', { message: 'must be a UUID' }) providerId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(255) externalId?: string;
  @ApiPropertyOptional() @IsOptional() @Transform(trimLower) @IsString() @MaxLength(320) email?: string;

  @ApiPropertyOptional({ type: Boolean })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'must be true or false' })
  enabled?: boolean;
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

