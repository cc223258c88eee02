import { OAUTH_ISSUERS, OAuthIssuer } from '@app/persistence';
import { Field, FIELD_LIMITS, FieldSpec, httpUrl, matches } from '@app/validation';
import { TENANT_PATTERN } from '../validation-patterns';

/** The OAuth fields once; create and PATCH differ only in whether clientId is required. */
const OAUTH_FIELDS = {
  clientId: { kind: 'string', maxLength: FIELD_LIMITS.clientId, description: 'Application (client) id registered with the identity provider', example: '00000000-1111-2222-3333-444444444444' },
  clientSecret: {
    kind: 'string',
    maxLength: FIELD_LIMITS.clientSecret,
    writeOnly: true,
    description:
      'Client secret (write-only; never returned). Omit for public clients (device code). A PATCH that changes oauth.authorityHost or graphBaseUrl drops the stored secret unless it is given again in the same request.',
  },
  tenant: {
    kind: 'string',
    maxLength: FIELD_LIMITS.tenant,
    check: matches(TENANT_PATTERN, 'must be common, organizations, consumers, a tenant id (GUID) or a domain'),
    description: '`common`, `organizations`, `consumers`, a tenant id or a tenant domain',
    default: 'common',
  },
  authorityHost: {
    kind: 'string',
    maxLength: FIELD_LIMITS.url,
    check: httpUrl('https://login.microsoftonline.com'),
    description:
      'Authority host (sovereign clouds, test servers). In production https, unless OUTBOUND_ALLOWED_NETWORKS lists its IP address. ' +
      'Changing it drops the stored client secret and the app-only token unless oauth.clientSecret comes in the same request, and every mailbox token of the provider (sign in again).',
    default: 'https://login.microsoftonline.com',
  },
  scopes: {
    kind: 'list',
    items: { maxLength: FIELD_LIMITS.scope },
    maxItems: FIELD_LIMITS.scopes,
    example: ['offline_access', 'https://outlook.office.com/IMAP.AccessAsUser.All'],
  },
  issuer: { kind: 'enum', values: OAUTH_ISSUERS, description: 'Identity platform; default google for a Google authority host, else microsoft' },
  appOnly: {
    kind: 'boolean',
    description: 'App-only (client credentials) for the whole tenant: Microsoft Graph providers with a client secret and a specific tenant',
    default: false,
  },
} satisfies Record<string, FieldSpec>;

export class OAuthSettingsDto {
  @Field({ ...OAUTH_FIELDS.clientId, required: true }) clientId: string;
  @Field(OAUTH_FIELDS.clientSecret) clientSecret?: string;
  @Field(OAUTH_FIELDS.tenant) tenant?: string;
  @Field(OAUTH_FIELDS.authorityHost) authorityHost?: string;
  @Field(OAUTH_FIELDS.scopes) scopes?: string[];
  @Field(OAUTH_FIELDS.issuer) issuer?: OAuthIssuer;
  @Field(OAUTH_FIELDS.appOnly) appOnly?: boolean;
}

/**
 * PATCH: every OAuth field may be changed on its own (same rules, all optional). Written out rather than
 * PartialType(), which would add IsOptional and so take `null` for "not given" again.
 */
export class OAuthSettingsPatchDto {
  @Field(OAUTH_FIELDS.clientId) clientId?: string;
  @Field(OAUTH_FIELDS.clientSecret) clientSecret?: string;
  @Field(OAUTH_FIELDS.tenant) tenant?: string;
  @Field(OAUTH_FIELDS.authorityHost) authorityHost?: string;
  @Field(OAUTH_FIELDS.scopes) scopes?: string[];
  @Field(OAUTH_FIELDS.issuer) issuer?: OAuthIssuer;
  @Field(OAUTH_FIELDS.appOnly) appOnly?: boolean;
}
