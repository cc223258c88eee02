import type { IncomingMessage } from 'node:http';
import { bearerToken } from '../fake-entra/http';
import { decodeJwtPayload } from '../fake-entra/jwt';
import type { FakeEntraId } from '../fake-entra';
import { GraphErrors } from './graph-errors';
import type { Mailbox } from './mail-store';

const GRAPH_AUDIENCES = new Set(['https://graph.microsoft.com', 'https://graph.microsoft.com/', '00000003-0000-0000-c000-000000000000']);
/** Delegated scopes that read mail (`.default` too: the fake Entra puts it into `scp` as requested). */
const DELEGATED_MAIL_SCOPES = new Set(['mail.read', 'mail.readbasic', 'mail.readwrite', '.default']);
/** Application roles that read every mailbox of the tenant. */
const APP_MAIL_ROLES = new Set(['mail.read', 'mail.readbasic.all', 'mail.readbasic', 'mail.readwrite']);

export interface GraphCaller {
  /** Delegated (a user signed in to the app) or app-only (client credentials). */
  kind: 'delegated' | 'app';
  /** The token's appid (client id). */
  appId: string;
  /** The signed-in user's object id, or the app's service principal id. */
  oid: string;
  tenantId: string;
  /** The signed-in user's UPN (delegated only). */
  username?: string;
  /** `scp` scopes (delegated) or `roles` (app-only). */
  permissions: string[];
}

interface AccessTokenClaims {
  idtyp?: string;
  roles?: string[];
  scp?: string;
  appid?: string;
}

/**
 * Checks `Authorization: Bearer …` the way Graph does: a well-formed JWT, active (by the fake Entra's
 * introspection: signature, expiry, revocation), for the Graph audience. Delegated and app-only tokens
 * are told apart by the `idtyp` claim, as Entra v1 access tokens carry it.
 */
export function authenticate(entra: FakeEntraId, req: IncomingMessage): GraphCaller {
  const token = bearerToken(req);
  if (!token) throw GraphErrors.tokenMissing();
  if (token.split('.').length !== 3) throw GraphErrors.tokenMalformed();
  const introspection = entra.introspect(token);
  if (!introspection.active) throw GraphErrors.tokenInactive();
  if (!introspection.aud || !GRAPH_AUDIENCES.has(introspection.aud)) throw GraphErrors.invalidAudience();
  let claims: AccessTokenClaims;
  try {
    claims = decodeJwtPayload<AccessTokenClaims>(token);
  } catch {
    throw GraphErrors.tokenMalformed();
  }
  const app = claims.idtyp === 'app' || !introspection.username;
  return {
    kind: app ? 'app' : 'delegated',
    appId: introspection.client_id ?? claims.appid ?? '',
    oid: introspection.oid ?? '',
    tenantId: introspection.tid ?? '',
    username: app ? undefined : introspection.username,
    permissions: app ? (claims.roles ?? []) : (claims.scp ?? introspection.scope ?? '').split(' ').filter(Boolean),
  };
}

/** Reading mail (and subscribing to it) needs Mail.Read(Basic)/ReadWrite: scope when delegated, role when app-only. */
export function requireMailPermission(caller: GraphCaller): void {
  const allowed = caller.kind === 'app' ? APP_MAIL_ROLES : DELEGATED_MAIL_SCOPES;
  if (!caller.permissions.some((p) => allowed.has(p.toLowerCase()))) throw GraphErrors.accessDenied();
}

/**
 * A delegated caller reaches only the signed-in user's own mailbox (403 otherwise); an app-only
 * caller reaches every mailbox of its tenant (another tenant's user does not exist for it: 404).
 */
export function authorizeMailbox(caller: GraphCaller, mailbox: Mailbox, requestedAs: string): void {
  if (caller.kind === 'app') {
    if (caller.tenantId !== mailbox.tenantId) throw GraphErrors.invalidUser(requestedAs);
    return;
  }
  if (caller.oid !== mailbox.id && caller.username?.toLowerCase() !== mailbox.email) throw GraphErrors.accessDenied();
}
