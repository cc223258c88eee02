import { createHash, randomUUID } from 'node:crypto';
import { base64url, randomToken, type SigningKey } from './jwt';
import type { ParsedScopes } from './scopes';

/** Microsoft-account (consumer) tenant; users of `consumers` live here. */
export const MSA_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';

export interface FakeEntraUser {
  username: string;
  oid: string;
  tenantId: string;
  displayName: string;
}

export interface FakeEntraApp {
  clientId: string;
  /** Set → confidential client: auth code, client credentials and refresh of its confidential grants need it. */
  clientSecret?: string;
  /** When set, /authorize and the code redemption only accept these. */
  redirectUris?: string[];
  displayName: string;
  /** "Allow public client flows" (device code without a secret). Default true. */
  allowPublicClientFlows: boolean;
  /** App roles put into client-credentials tokens (`roles` claim), e.g. ['Mail.Read']. */
  appRoles: string[];
}

export interface EntraIssuedAccessToken {
  token: string;
  kind: 'delegated' | 'app';
  clientId: string;
  username?: string;
  oid: string;
  tenantId: string;
  audience: string;
  scopes: string[];
  /** ms, by the fake's clock */
  issuedAt: number;
  /** ms, by the fake's clock */
  expiresAt: number;
  invalidated: boolean;
}

/** One consent/sign-in: the refresh tokens descending from it form a rotation chain. */
export interface Grant {
  id: string;
  clientId: string;
  username: string;
  /** The scope string of the sign-in (refresh without `scope` reuses it). */
  scope: string;
  offlineAccess: boolean;
  /** Signed in through a confidential client with its secret: refreshing needs the secret too. */
  confidential: boolean;
  issuedAt: number;
  revoked?: { kind: 'revoked' | 'consent_withdrawn' | 'expired' | 'reused'; at: number };
  currentRefreshToken?: string;
}

export interface RefreshTokenRecord {
  token: string;
  grantId: string;
  issuedAt: number;
  /** Set once exchanged: the token was rotated away and must not come back. */
  redeemedAt?: number;
}

/** Pairwise subject: stable per (user, app) like Entra's `sub`. */
export function pairwiseSub(oid: string, clientId: string): string {
  return base64url(createHash('sha256').update(`${oid}|${clientId}`).digest()).slice(0, 43);
}

export function clientInfo(user: FakeEntraUser): string {
  return base64url(JSON.stringify({ uid: user.oid, utid: user.tenantId }));
}

export function newRefreshToken(): string {
  // Real ones are long opaque strings starting with "0.A"; clients must not parse them.
  return `0.A${randomToken(180)}`;
}

function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

function nameParts(displayName: string): { given_name: string; family_name: string } {
  const [given, ...rest] = displayName.split(' ');
  return { given_name: given ?? displayName, family_name: rest.join(' ') };
}

/** Builds access tokens (v1.0 JWTs as Microsoft first-party resources receive them) and v2.0 id_tokens. */
export class TokenMinter {
  constructor(
    private readonly key: SigningKey,
    private readonly baseUrl: string,
  ) {}

  delegatedAccessToken(args: {
    app: FakeEntraApp;
    user: FakeEntraUser;
    scopes: ParsedScopes;
    now: number;
    lifetimeSeconds: number;
  }): { token: string; record: Omit<EntraIssuedAccessToken, 'token'> } {
    const { app, user, scopes, now, lifetimeSeconds } = args;
    const iat = seconds(now);
    const exp = iat + lifetimeSeconds;
    const scp = scopes.permissions.length ? scopes.permissions.join(' ') : 'User.Read openid profile email';
    const payload = {
      aud: scopes.resource,
      iss: `https://sts.windows.net/${user.tenantId}/`,
      iat,
      nbf: iat,
      exp,
      acr: '1',
      amr: ['pwd'],
      app_displayname: app.displayName,
      appid: app.clientId,
      appidacr: app.clientSecret ? '1' : '0',
      ...nameParts(user.displayName),
      idtyp: 'user',
      ipaddr: '127.0.0.1',
      name: user.displayName,
      oid: user.oid,
      scp,
      sub: pairwiseSub(user.oid, scopes.resource),
      tid: user.tenantId,
      unique_name: user.username,
      upn: user.username,
      uti: randomToken(16),
      ver: '1.0',
    };
    return {
      token: this.key.sign(payload, { x5t: this.key.kid }),
      record: {
        kind: 'delegated',
        clientId: app.clientId,
        username: user.username,
        oid: user.oid,
        tenantId: user.tenantId,
        audience: scopes.resource,
        scopes: scp.split(' '),
        issuedAt: now,
        expiresAt: exp * 1000,
        invalidated: false,
      },
    };
  }

  appAccessToken(args: {
    app: FakeEntraApp;
    tenantId: string;
    resource: string;
    now: number;
    lifetimeSeconds: number;
  }): { token: string; record: Omit<EntraIssuedAccessToken, 'token'> } {
    const { app, tenantId, resource, now, lifetimeSeconds } = args;
    const iat = seconds(now);
    const exp = iat + lifetimeSeconds;
    const servicePrincipalId = uuidFrom(`sp|${app.clientId}|${tenantId}`);
    const payload: Record<string, unknown> = {
      aud: resource,
      iss: `https://sts.windows.net/${tenantId}/`,
      iat,
      nbf: iat,
      exp,
      app_displayname: app.displayName,
      appid: app.clientId,
      appidacr: '1',
      idp: `https://sts.windows.net/${tenantId}/`,
      idtyp: 'app',
      oid: servicePrincipalId,
      sub: servicePrincipalId,
      tid: tenantId,
      uti: randomToken(16),
      ver: '1.0',
    };
    if (app.appRoles.length) payload.roles = app.appRoles;
    return {
      token: this.key.sign(payload, { x5t: this.key.kid }),
      record: {
        kind: 'app',
        clientId: app.clientId,
        oid: servicePrincipalId,
        tenantId,
        audience: resource,
        scopes: app.appRoles,
        issuedAt: now,
        expiresAt: exp * 1000,
        invalidated: false,
      },
    };
  }

  idToken(args: { app: FakeEntraApp; user: FakeEntraUser; scopes: ParsedScopes; now: number; nonce?: string }): string {
    const { app, user, scopes, now, nonce } = args;
    const iat = seconds(now);
    const payload: Record<string, unknown> = {
      aud: app.clientId,
      iss: `${this.baseUrl}/${user.tenantId}/v2.0`,
      iat,
      nbf: iat,
      exp: iat + 3600,
    };
    if (scopes.oidc.includes('email')) payload.email = user.username;
    payload.name = user.displayName;
    if (nonce) payload.nonce = nonce;
    Object.assign(payload, {
      oid: user.oid,
      preferred_username: user.username,
      rh: `1.A${randomToken(24)}.`,
      sub: pairwiseSub(user.oid, app.clientId),
      tid: user.tenantId,
      uti: randomToken(16),
      ver: '2.0',
    });
    return this.key.sign(payload);
  }
}

/** A deterministic v4-shaped UUID from a string (stable object ids for service principals, tenants). */
export function uuidFrom(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16] as string, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function newGuid(): string {
  return randomUUID();
}
