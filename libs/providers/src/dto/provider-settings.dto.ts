import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, MaxLength, Min } from 'class-validator';
import { AUTH_METHODS, AuthMethod, LOGIN_FORMATS, LoginFormat } from '@app/persistence';
import { DOMAIN_PATTERN, HOST_PATTERN } from '../validation-patterns';

/** Settings shared by create and patch; every field optional here, requirements checked on the merged result. */
export class ProviderSettingsDto {
  @ApiPropertyOptional({ description: 'Service address (host name or IP, no scheme)', example: 'outlook.office365.com' })
  @IsOptional()
  @IsString()
  @Matches(HOST_PATTERN, { message: 'must be a host name or IP address without scheme, port, path or spaces (example: outlook.office365.com)' })
  host?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 65535, description: 'Default 993 with TLS, 143 without' })
  @IsOptional()
  @IsInt()
  @Min(1, { message: 'must be between 1 and 65535' })
  @Max(65535, { message: 'must be between 1 and 65535' })
  port?: number;

  @ApiPropertyOptional({ description: 'TLS on connect', default: true }) @IsOptional() @IsBoolean() secure?: boolean;

  @ApiPropertyOptional({ description: 'Verify the server certificate; turning it off is logged as a warning', default: true })
  @IsOptional()
  @IsBoolean()
  verifyCertificate?: boolean;

  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() loadEmails?: boolean;

  @ApiPropertyOptional({ default: false }) @IsOptional() @IsBoolean() sendEmails?: boolean;

  @ApiPropertyOptional({ enum: LOGIN_FORMATS, default: 'email' })
  @IsOptional()
  @IsIn(LOGIN_FORMATS, { message: `must be one of: ${LOGIN_FORMATS.join(', ')}` })
  loginFormat?: LoginFormat;

  @ApiPropertyOptional({ enum: AUTH_METHODS, description: 'Default basic for imap, oauth2 for microsoft-graph' })
  @IsOptional()
  @IsIn(AUTH_METHODS, { message: `must be one of: ${AUTH_METHODS.join(', ')}` })
  authMethod?: AuthMethod;

  @ApiPropertyOptional({ description: 'Microsoft Graph base URL', default: 'https://graph.microsoft.com/v1.0' })
  @IsOptional()
  @IsUrl({ protocols: ['https', 'http'], require_protocol: true, require_tld: false }, { message: 'must be an http(s) URL such as https://graph.microsoft.com/v1.0' })
  @MaxLength(2048)
  graphBaseUrl?: string;

  @ApiPropertyOptional({ type: [String], description: 'Mail domains this provider serves', example: ['contoso.com'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @Matches(DOMAIN_PATTERN, { each: true, message: 'each domain must look like contoso.com' })
  domains?: string[];
}

