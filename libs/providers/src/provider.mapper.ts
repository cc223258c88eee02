import { ProviderEntity } from '@app/persistence';
import { ProviderResponse } from './dto/provider.response';
import { ResolvedProviderSettings } from './provider-settings';

export function toProviderSettings(entity: ProviderEntity): ResolvedProviderSettings {
  return {
    name: entity.name,
    type: entity.type,
    host: entity.host,
    port: entity.port,
    secure: entity.secure,
    verifyCertificate: entity.verifyCertificate,
    loadEmails: entity.loadEmails,
    sendEmails: entity.sendEmails,
    loginFormat: entity.loginFormat,
    authMethod: entity.authMethod,
    oauth:
      entity.authMethod === 'oauth2'
        ? {
            clientId: entity.oauthClientId,
            tenant: entity.oauthTenant ?? 'common',
            authorityHost: entity.oauthAuthorityHost ?? '',
            scopes: entity.oauthScopes,
            issuer: entity.oauthIssuer ?? 'microsoft',
            appOnly: entity.oauthAppOnly,
          }
        : null,
    graphBaseUrl: entity.graphBaseUrl,
    domains: (entity.domains ?? []).map((d) => d.domain).sort(),
    smtp: entity.smtpHost && entity.smtpPort && entity.smtpSecurity ? { host: entity.smtpHost, port: entity.smtpPort, security: entity.smtpSecurity } : null,
    appendToSent: entity.appendToSent,
  };
}

/** Copies resolved settings onto the entity's columns (the client secret is handled by the service). */
export function applyProviderSettings(entity: ProviderEntity, settings: ResolvedProviderSettings): void {
  entity.name = settings.name;
  entity.type = settings.type;
  entity.host = settings.host;
  entity.port = settings.port;
  entity.secure = settings.secure;
  entity.verifyCertificate = settings.verifyCertificate;
  entity.loadEmails = settings.loadEmails;
  entity.sendEmails = settings.sendEmails;
  entity.loginFormat = settings.loginFormat;
  entity.authMethod = settings.authMethod;
  entity.oauthClientId = settings.oauth?.clientId ?? null;
  entity.oauthTenant = settings.oauth?.tenant ?? null;
  entity.oauthAuthorityHost = settings.oauth?.authorityHost ?? null;
  entity.oauthScopes = settings.oauth?.scopes ?? [];
  entity.oauthIssuer = settings.oauth?.issuer ?? null;
  entity.oauthAppOnly = settings.oauth?.appOnly ?? false;
  entity.graphBaseUrl = settings.graphBaseUrl;
  entity.smtpHost = settings.smtp?.host ?? null;
  entity.smtpPort = settings.smtp?.port ?? null;
  entity.smtpSecurity = settings.smtp?.security ?? null;
  entity.appendToSent = settings.appendToSent;
}

export function toProviderResponse(entity: ProviderEntity): ProviderResponse {
  const settings = toProviderSettings(entity);
  return {
    id: entity.id,
    ...settings,
    oauth: settings.oauth
      ? {
          clientId: settings.oauth.clientId ?? '',
          hasClientSecret: entity.oauthClientSecretEncrypted !== null,
          tenant: settings.oauth.tenant,
          authorityHost: settings.oauth.authorityHost,
          scopes: settings.oauth.scopes,
          issuer: settings.oauth.issuer,
          appOnly: settings.oauth.appOnly,
        }
      : null,
    createdAt: entity.createdAt.toISOString(),
    updatedAt: entity.updatedAt.toISOString(),
  };
}
