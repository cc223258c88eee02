import { SMTP_SECURITIES, SmtpSecurity } from '@app/persistence';
import { Field, FIELD_LIMITS, matches, PORT_RANGE } from '@app/validation';
import { HOST_MESSAGE, HOST_PATTERN } from '../validation-patterns';

/**
 * `smtp` of a provider: every field optional, in create and PATCH alike (what is not given comes from
 * the stored settings, or is derived from the provider's host).
 */
export class SmtpSettingsDto {
  @Field({
    kind: 'string',
    maxLength: FIELD_LIMITS.host,
    check: matches(HOST_PATTERN, HOST_MESSAGE),
    description: 'SMTP submission server. Default: derived from host (outlook.office365.com → smtp.office365.com, imap.gmail.com → smtp.gmail.com, else host itself)',
    example: 'smtp.office365.com',
  })
  host?: string;

  @Field({ kind: 'integer', ...PORT_RANGE, description: 'Default 465 with security tls, else 587' })
  port?: number;

  @Field({
    kind: 'enum',
    values: SMTP_SECURITIES,
    description: '`tls`: TLS on connect; `starttls`: upgrade after EHLO (required); `none`: plain text, for development and tests only (logged as a warning). Default: 465 → tls, else starttls',
  })
  security?: SmtpSecurity;
}
