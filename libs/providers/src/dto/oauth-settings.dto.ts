import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsNotEmpty, IsOptional, IsString, IsUrl, Matches, MaxLength } from 'class-validator';
import { OAUTH_ISSUERS, OAuthIssuer } from '@app/persistence';
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

  @ApiPropertyOptional({ enum: OAUTH_ISSUERS, description: 'Identity platform; default google for a Google authority host, else microsoft' })
  @IsOptional()
  @IsIn(OAUTH_ISSUERS, { message: `must be one of: ${OAUTH_ISSUERS.join(', ')}` })
  issuer?: OAuthIssuer;

  @ApiPropertyOptional({ description: 'App-only (client credentials) for the whole tenant: Microsoft Graph providers with a client secret and a specific tenant', default: false })
  @IsOptional()
  @IsBoolean()
  appOnly?: boolean;
}

/** PATCH: every OAuth field may be changed on its own (same rules, all optional). */
export class OAuthSettingsPatchDto extends PartialType(OAuthSettingsDto) {}
