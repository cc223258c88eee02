import { BadRequestException } from '@nestjs/common';
import { AuthMethod, LoginFormat, OAuthIssuer, ProviderType } from '@app/persistence';
import { deriveAppendToSent, deriveSmtpSettings, mergeSmtpSettings, sameSmtp, SmtpSettings, SmtpSettingsInput } from './smtp-settings';

export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
export const DEFAULT_GRAPH_BASE_URL = 'https://graph.microsoft.com/v1.0';
export const DEFAULT_TENANT = 'common';

/** A provider's settings after defaults, as stored (secret excluded). */
export interface ResolvedProviderSettings {
  name: string;
  type: ProviderType;
  host: string | null;
  port: number | null;
  secure: boolean;
  verifyCertificate: boolean;
  loadEmails: boolean;
  sendEmails: boolean;
  loginFormat: LoginFormat;
  authMethod: AuthMethod;
  oauth: { clientId: string | null; tenant: string; authorityHost: string; scopes: string[]; issuer: OAuthIssuer; appOnly: boolean } | null;
  graphBaseUrl: string | null;
  domains: string[];
  /** Where mailboxes send (imap providers); null for Graph, which sends through sendMail. */
  smtp: SmtpSettings | null;
  /** Append a copy of each sent message to the Sent folder (servers that do not keep one themselves). */
  appendToSent: boolean;
}

export type ProviderSettingsInput = Partial<Omit<ResolvedProviderSettings, 'oauth' | 'smtp'>> & {
  smtp?: SmtpSettingsInput;
  oauth?: Partial<{ clientId: string; tenant: string; authorityHost: string; scopes: string[]; issuer: OAuthIssuer; appOnly: boolean }>;
};

/** What the settings check needs to know beyond the fields themselves. */
export interface ProviderSettingsContext {
  /** The request carries oauth.clientSecret. */
  secretSupplied?: boolean;
  /** A client secret is stored (update). It is kept only while the identity and Graph addresses stay. */
  secretStored?: boolean;
  /**
   * The outbound policy's verdict on an identity or Graph endpoint URL (in production: https, or plain
   * http to an allow-listed address), null when it may be used.
   */
  urlProblem?: (url: string) => string | null;
}

/** The endpoints stored secrets and tokens are sent to; moving one drops them (see movedEndpoints). */
export type SecretBearingEndpoint = 'oauth.authorityHost' | 'graphBaseUrl';

function sameAddress(a: string, b: string): boolean {
  try {
    return new URL(a).href.replace(/\/+$/, '') === new URL(b).href.replace(/\/+$/, '');
  } catch {
    return a === b;
  }
}

/**
 * Which endpoints a change moves elsewhere: the identity address (client secret, refresh tokens and
 * client credentials go there) and the Graph address (access tokens go there). Spelling alone (case,
 * a trailing slash) is not a move; an endpoint that appears or disappears is not one either.
 */
export function movedEndpoints(
  before: Pick<ResolvedProviderSettings, 'oauth' | 'graphBaseUrl'>,
  after: Pick<ResolvedProviderSettings, 'oauth' | 'graphBaseUrl'>,
): SecretBearingEndpoint[] {
  const moved: SecretBearingEndpoint[] = [];
  if (before.oauth && after.oauth && !sameAddress(before.oauth.authorityHost, after.oauth.authorityHost)) moved.push('oauth.authorityHost');
  if (before.graphBaseUrl && after.graphBaseUrl && !sameAddress(before.graphBaseUrl, after.graphBaseUrl)) moved.push('graphBaseUrl');
  return moved;
}

function isGoogle(authorityHost: string): boolean {
  return /(^|\.)google\.com$|(^|\.)googleapis\.com$/.test(new URL(authorityHost).hostname);
}

/** Scopes a provider needs when the operator does not list them. */
export function defaultScopes(type: ProviderType, issuer: OAuthIssuer, appOnly: boolean, graphBaseUrl: string | null): string[] {
  if (issuer === 'google') return ['https://mail.google.com/'];
  if (appOnly) return [`${new URL(graphBaseUrl ?? DEFAULT_GRAPH_BASE_URL).origin}/.default`];
  if (type === 'microsoft-graph') return ['offline_access', 'https://graph.microsoft.com/Mail.Read'];
  return ['offline_access', 'https://outlook.office.com/IMAP.AccessAsUser.All'];
}

const MULTI_TENANT_ALIASES = ['common', 'organizations', 'consumers'];

/**
 * Applies defaults on top of `base` (the stored provider, or nothing on create) and checks the rules that
 * span fields. Throws a 400 listing every broken rule with the field it concerns.
 */
export function resolveProviderSettings(
  input: ProviderSettingsInput,
  base?: ResolvedProviderSettings,
  context: ProviderSettingsContext = {},
): ResolvedProviderSettings {
  const type = input.type ?? base?.type ?? 'imap';
  const typeChanged = base !== undefined && input.type !== undefined && input.type !== base.type;
  const authMethod = input.authMethod ?? (typeChanged ? undefined : base?.authMethod) ?? (type === 'microsoft-graph' ? 'oauth2' : 'basic');
  const secure = input.secure ?? base?.secure ?? true;
  const problems: string[] = [];

  let port = input.port ?? base?.port ?? null;
  if (type === 'imap' && port === null) port = secure ? 993 : 143;
  if (input.secure !== undefined && input.port === undefined && base && (base.port === 993 || base.port === 143)) port = secure ? 993 : 143;

  let oauth: ResolvedProviderSettings['oauth'] = null;
  if (authMethod === 'oauth2') {
    const previous = base?.oauth;
    const authorityHost = (input.oauth?.authorityHost ?? previous?.authorityHost ?? DEFAULT_AUTHORITY_HOST).replace(/\/+$/, '');
    const issuer = input.oauth?.issuer ?? (input.oauth?.authorityHost ? undefined : previous?.issuer) ?? (isGoogle(authorityHost) ? 'google' : 'microsoft');
    const appOnly = input.oauth?.appOnly ?? previous?.appOnly ?? false;
    const graphBaseUrl = input.graphBaseUrl ?? base?.graphBaseUrl ?? null;
    const scopesFollowDefaults = input.oauth?.scopes === undefined && (input.oauth?.appOnly !== undefined || input.oauth?.issuer !== undefined || typeChanged);
    oauth = {
      clientId: input.oauth?.clientId ?? previous?.clientId ?? null,
      tenant: input.oauth?.tenant ?? previous?.tenant ?? DEFAULT_TENANT,
      authorityHost,
      scopes: input.oauth?.scopes ?? (scopesFollowDefaults ? undefined : previous?.scopes) ?? defaultScopes(type, issuer, appOnly, graphBaseUrl),
      issuer,
      appOnly,
    };
    if (!oauth.clientId) problems.push('oauth.clientId: is required when authMethod is oauth2');
    if (appOnly) {
      if (type !== 'microsoft-graph' || issuer !== 'microsoft') problems.push('oauth.appOnly: only for microsoft-graph providers with the microsoft issuer');
      const moved = base ? movedEndpoints(base, { oauth, graphBaseUrl: type === 'microsoft-graph' ? graphBaseUrl : null }) : [];
      if (!context.secretSupplied && context.secretStored && moved.length > 0) {
        problems.push(`oauth.clientSecret: is required again when ${moved.join(' or ')} changes (a stored secret is only sent to the address it was given for)`);
      } else if (!context.secretSupplied && !context.secretStored) {
        problems.push('oauth.clientSecret: is required when oauth.appOnly is true (client credentials)');
      }
      if (MULTI_TENANT_ALIASES.includes(oauth.tenant.toLowerCase())) problems.push('oauth.tenant: must be a specific tenant id or domain when oauth.appOnly is true');
    }
  } else if (input.oauth !== undefined) {
    problems.push('oauth: only accepted when authMethod is oauth2');
  }

  const resolved: ResolvedProviderSettings = {
    name: input.name ?? base?.name ?? '',
    type,
    host: input.host?.toLowerCase() ?? base?.host ?? null,
    port,
    secure,
    verifyCertificate: input.verifyCertificate ?? base?.verifyCertificate ?? true,
    loadEmails: input.loadEmails ?? base?.loadEmails ?? true,
    sendEmails: input.sendEmails ?? base?.sendEmails ?? false,
    loginFormat: input.loginFormat ?? base?.loginFormat ?? 'email',
    authMethod,
    oauth,
    graphBaseUrl:
      type === 'microsoft-graph' ? (input.graphBaseUrl ?? base?.graphBaseUrl ?? DEFAULT_GRAPH_BASE_URL).replace(/\/+$/, '') : (input.graphBaseUrl ?? null),
    domains: normalizeDomains(input.domains ?? base?.domains ?? []),
    smtp: null,
    appendToSent: false,
  };
  resolveSending(input, base, resolved, problems);

  if (context.urlProblem) {
    const identity = oauth ? context.urlProblem(oauth.authorityHost) : null;
    if (identity) problems.push(`oauth.authorityHost: ${identity}`);
    const graph = resolved.graphBaseUrl ? context.urlProblem(resolved.graphBaseUrl) : null;
    if (graph) problems.push(`graphBaseUrl: ${graph}`);
  }
  if (!resolved.loadEmails && !resolved.sendEmails) problems.push('loadEmails: at least one of loadEmails and sendEmails must be true');
  if (type === 'imap' && !resolved.host) problems.push('host: is required for imap providers (example: outlook.office365.com)');
  if (type === 'microsoft-graph' && authMethod !== 'oauth2') problems.push('authMethod: microsoft-graph providers need oauth2');
  if (problems.length > 0) throw new BadRequestException(problems.join('; '));
  return resolved;
}

/**
 * SMTP settings and appendToSent: derived from the host unless set; a derived value follows a change of
 * host (it was never chosen), a value the operator set stays.
 */
function resolveSending(input: ProviderSettingsInput, base: ResolvedProviderSettings | undefined, resolved: ResolvedProviderSettings, problems: string[]): void {
  const derivedBefore = base ? deriveSmtpSettings(base.type, base.host) : null;
  if (resolved.type !== 'imap') {
    if (input.smtp !== undefined) problems.push('smtp: only for imap providers (microsoft-graph providers send through Graph)');
    if (input.appendToSent === true) problems.push('appendToSent: only for imap providers (Graph keeps the sent copy itself)');
    return;
  }
  const derived = deriveSmtpSettings(resolved.type, resolved.host);
  const smtpFollowsDefaults = !base || base.smtp === null || sameSmtp(base.smtp, derivedBefore);
  const smtpBase = smtpFollowsDefaults ? derived : base.smtp;
  resolved.smtp = input.smtp !== undefined ? mergeSmtpSettings(input.smtp, smtpBase, resolved.host) : smtpBase;
  const appendFollowsDefaults = !base || base.appendToSent === deriveAppendToSent(base.type, base.host, base.smtp?.host ?? null);
  resolved.appendToSent =
    input.appendToSent ?? (appendFollowsDefaults ? deriveAppendToSent(resolved.type, resolved.host, resolved.smtp?.host ?? null) : (base?.appendToSent ?? true));
}

export function normalizeDomains(domains: string[]): string[] {
  return [...new Set(domains.map((domain) => domain.trim().toLowerCase()))].sort();
}
