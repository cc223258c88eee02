import { AUTH_METHODS, AuthMethod, LOGIN_FORMATS, LoginFormat } from '@app/persistence';
import { Field, FIELD_LIMITS, httpUrl, matches, PORT_RANGE } from '@app/validation';
import { DOMAIN_PATTERN, HOST_MESSAGE, HOST_PATTERN } from '../validation-patterns';
import { SmtpSettingsDto } from './smtp-settings.dto';

/** Settings shared by create and patch; every field optional here, requirements checked on the merged result. */
export class ProviderSettingsDto {
  @Field({ kind: 'string', maxLength: FIELD_LIMITS.host, check: matches(HOST_PATTERN, HOST_MESSAGE), description: 'Service address: a DNS name or an IP address (no scheme, port or brackets)', example: 'outlook.office365.com' })
  host?: string;

  @Field({ kind: 'integer', ...PORT_RANGE, description: 'Default 993 with TLS, 143 without' })
  port?: number;

  @Field({ kind: 'boolean', description: 'TLS on connect', default: true })
  secure?: boolean;

  @Field({ kind: 'boolean', description: 'Verify the server certificate; turning it off is logged as a warning', default: true })
  verifyCertificate?: boolean;

  @Field({ kind: 'boolean', default: true })
  loadEmails?: boolean;

  @Field({ kind: 'boolean', default: false })
  sendEmails?: boolean;

  @Field({ kind: 'enum', values: LOGIN_FORMATS, default: 'email' })
  loginFormat?: LoginFormat;

  @Field({ kind: 'enum', values: AUTH_METHODS, description: 'Default basic for imap, oauth2 for microsoft-graph' })
  authMethod?: AuthMethod;

  @Field({
    kind: 'string',
    maxLength: FIELD_LIMITS.url,
    check: httpUrl('https://graph.microsoft.com/v1.0'),
    description:
      'Microsoft Graph base URL. In production https, unless OUTBOUND_ALLOWED_NETWORKS lists its IP address. ' +
      'Changing it drops the stored client secret and the app-only token unless oauth.clientSecret comes in the same request, and every mailbox token of the provider (sign in again).',
    default: 'https://graph.microsoft.com/v1.0',
  })
  graphBaseUrl?: string;

  @Field({
    kind: 'list',
    items: { maxLength: FIELD_LIMITS.domain, check: matches(DOMAIN_PATTERN, 'each domain must look like contoso.com') },
    maxItems: FIELD_LIMITS.domains,
    description: 'Mail domains this provider serves',
    example: ['contoso.com'],
  })
  domains?: string[];

  @Field({
    kind: 'object',
    type: () => SmtpSettingsDto,
    description: 'Where mailboxes send (imap providers only). Fields given replace the stored ones; the rest are derived from host',
  })
  smtp?: SmtpSettingsDto;

  @Field({
    kind: 'boolean',
    description: 'Append each sent message to the Sent folder. Default false for Exchange Online and Gmail (their servers keep a copy) and Graph, true otherwise',
  })
  appendToSent?: boolean;
}
