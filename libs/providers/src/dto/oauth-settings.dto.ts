import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsNotEmpty, IsOptional, IsString, IsUrl, Matches, MaxLength } from 'class-validator';
import { TENANT_PATTERN } from '../validation-patterns';

export class OAuthSettingsDto {
  @ApiProperty({ description: 'Application (client) id registered with the identity provider', example: '00000000-1111-2222-3333-444444444444' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  clientId: string;

  @ApiPropertyOptional({ description: 'Client secret (write-only; never returned). Omit for public clients (device code).', writeOnly: true })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(2048)
  clientSecret?: string;

  @ApiPropertyOptional({ description: '`common`, `organizations`, `consumers`, a tenant id or a tenant domain', default: 'common' })
  @IsOptional()
  @IsString()
  @Matches(TENANT_PATTERN, { message: 'must be common, organizations, consumers, a tenant id (GUID) or a domain' })
  tenant?: string;

  @ApiPropertyOptional({ description: 'Authority host (sovereign clouds, test servers)', default: 'https://login.microsoftonline.com' })
  @IsOptional()
  @IsUrl({ protocols: ['https', 'http'], require_protocol: true, require_tld: false }, { message: 'must be an http(s) URL such as https://login.microsoftonline.com' })
  @MaxLength(2048)
  authorityHost?: string;

  @ApiPropertyOptional({ type: [String], example: ['offline_access', 'https://outlook.office.com/IMAP.AccessAsUser.All'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(512, { each: true })
  scopes?: string[];
}

/** PATCH: every OAuth field may be changed on its own. */
export class OAuthSettingsPatchDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @IsNotEmpty() @MaxLength(256) clientId?: string;

  @ApiPropertyOptional({ writeOnly: true }) @IsOptional() @IsString() @IsNotEmpty() @MaxLength(2048) clientSecret?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(TENANT_PATTERN, { message: 'must be common, organizations, consumers, a tenant id (GUID) or a domain' })
  tenant?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsUrl({ protocols: ['https', 'http'], require_protocol: true, require_tld: false }, { message: 'must be an http(s) URL such as https://login.microsoftonline.com' })
  authorityHost?: string;

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  scopes?: string[];
}
