/**
 * Scope handling of the Microsoft identity platform v2.0 endpoint:
 * - `openid profile email offline_access` are OIDC scopes (offline_access → a refresh token, openid → an id_token);
 * - a scope without a resource prefix belongs to Microsoft Graph (`User.Read` = `https://graph.microsoft.com/User.Read`);
 * - one token is for one resource: scopes of two resources in one request fail with AADSTS28000.
 */
export const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);
export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
const GRAPH_ALIASES = new Set([GRAPH_RESOURCE, '00000003-0000-0000-c000-000000000000', 'https://graph.microsoft.com/']);
/** Exchange Online answers to both host names; they are one resource (one app) for Entra. */
const EXCHANGE_ALIASES = new Set(['https://outlook.office.com', 'https://outlook.office365.com', '00000002-0000-0ff1-ce00-000000000000']);

export interface ParsedScopes {
  /** OIDC scopes as requested (openid, profile, email, offline_access). */
  oidc: string[];
  /** The resource (token audience), e.g. `https://outlook.office.com`; Graph when only OIDC scopes were asked for. */
  resource: string;
  /** Permission names without the resource (`IMAP.AccessAsUser.All`, `.default`). */
  permissions: string[];
  /** The resource scopes as Entra echoes them in `scope`: Graph ones short, others with their resource URI. */
  resourceScopes: string[];
  offlineAccess: boolean;
  openid: boolean;
}

export function splitScopes(scope: string | undefined): string[] {
  return (scope ?? '').split(/\s+/).filter(Boolean);
}

function resourceOf(scope: string): { resource: string; permission: string; graph: boolean } {
  const slash = scope.lastIndexOf('/');
  if (slash > 0) {
    const resource = scope.slice(0, slash);
    const permission = scope.slice(slash + 1);
    return { resource, permission, graph: GRAPH_ALIASES.has(resource) };
  }
  return { resource: GRAPH_RESOURCE, permission: scope, graph: true };
}

function resourceKey(resource: string): string {
  if (GRAPH_ALIASES.has(resource)) return GRAPH_RESOURCE;
  if (EXCHANGE_ALIASES.has(resource)) return 'exchange';
  return resource.toLowerCase();
}

/** Parses a `scope` parameter; `multipleResources` when it mixes resources (Entra: AADSTS28000). */
export function parseScopes(scope: string | undefined): ParsedScopes | { multipleResources: true } {
  const all = splitScopes(scope);
  const oidc: string[] = [];
  const permissions: string[] = [];
  const resourceScopes: string[] = [];
  let resource: string | undefined;
  for (const s of all) {
    if (OIDC_SCOPES.has(s.toLowerCase())) {
      if (!oidc.includes(s.toLowerCase())) oidc.push(s.toLowerCase());
      continue;
    }
    const parsed = resourceOf(s);
    if (resource !== undefined && resourceKey(resource) !== resourceKey(parsed.resource)) return { multipleResources: true };
    resource ??= parsed.graph ? GRAPH_RESOURCE : parsed.resource;
    permissions.push(parsed.permission);
    resourceScopes.push(parsed.graph ? parsed.permission : s);
  }
  return {
    oidc,
    resource: resource ?? GRAPH_RESOURCE,
    permissions,
    resourceScopes,
    offlineAccess: oidc.includes('offline_access'),
    openid: oidc.includes('openid'),
  };
}

/** The `scope` value of a token response: resource scopes, then the OIDC ones Entra reports (not offline_access). */
export function responseScope(parsed: ParsedScopes): string {
  const oidc = parsed.oidc.filter((s) => s !== 'offline_access');
  const scopes = [...parsed.resourceScopes, ...oidc];
  // Asking only for OIDC scopes gives a Graph token with User.Read, as the real endpoint does.
  if (parsed.resourceScopes.length === 0) scopes.unshift('User.Read');
  return scopes.join(' ');
}
