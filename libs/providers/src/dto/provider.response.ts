import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AUTH_METHODS, AuthMethod, LOGIN_FORMATS, LoginFormat, OAUTH_ISSUERS, OAuthIssuer, PROVIDER_TYPES, ProviderType, SMTP_SECURITIES, SmtpSecurity } from '@app/persistence';

export class OAuthSettingsResponse {
  @ApiProperty() clientId: string;
  @ApiProperty({
    description: 'Whether a client secret is stored (the secret itself is never returned). False after a change of oauth.authorityHost or graphBaseUrl that did not supply the secret again: it was dropped.',
  })
  hasClientSecret: boolean;
  @ApiProperty() tenant: string;
  @ApiProperty() authorityHost: string;
  @ApiProperty({ type: [String] }) scopes: string[];
  @ApiProperty({ enum: OAUTH_ISSUERS }) issuer: OAuthIssuer;
  @ApiProperty() appOnly: boolean;
}

export class SmtpSettingsResponse {
  @ApiProperty() host: string;
  @ApiProperty() port: number;
  @ApiProperty({ enum: SMTP_SECURITIES }) security: SmtpSecurity;
}

export class ProviderResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: PROVIDER_TYPES }) type: ProviderType;
  @ApiProperty({ nullable: true, type: String }) host: string | null;
  @ApiProperty({ nullable: true, type: Number }) port: number | null;
  @ApiProperty() secure: boolean;
  @ApiProperty() verifyCertificate: boolean;
  @ApiProperty() loadEmails: boolean;
  @ApiProperty() sendEmails: boolean;
  @ApiProperty({ enum: LOGIN_FORMATS }) loginFormat: LoginFormat;
  @ApiProperty({ enum: AUTH_METHODS }) authMethod: AuthMethod;
  @ApiPropertyOptional({ type: OAuthSettingsResponse, nullable: true }) oauth: OAuthSettingsResponse | null;
  @ApiProperty({ nullable: true, type: String }) graphBaseUrl: string | null;
  @ApiProperty({ type: [String] }) domains: string[];
  @ApiProperty({ type: SmtpSettingsResponse, nullable: true, description: 'null for microsoft-graph providers (they send through Graph)' }) smtp: SmtpSettingsResponse | null;
  @ApiProperty() appendToSent: boolean;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class ProviderListResponse {
  @ApiProperty({ type: [ProviderResponse] }) items: ProviderResponse[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}
