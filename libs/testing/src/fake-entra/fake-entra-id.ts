import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Aadsts, aadErrorBody, type AadError } from './aadsts-errors';
import {
  basicCredentials,
  bearerToken,
  escapeHtml,
  hiddenInputs,
  queryParams,
  readParams,
  redirect,
  sendAuthorizationResponse,
  sendHtml,
  sendJson,
  sleep,
  type Params,
} from './http';
import { SigningKey, randomToken } from './jwt';
import { parseScopes, responseScope, splitScopes, type ParsedScopes } from './scopes';
import { generateLoopbackCertificate, listenForInstance, type ListeningServer } from './tls';
import {
  MSA_TENANT_ID,
  TokenMinter,
  clientInfo,
  newGuid,
  newRefreshToken,
  uuidFrom,
  type EntraIssuedAccessToken,
  type FakeEntraApp,
  type FakeEntraUser,
  type Grant,
  type RefreshTokenRecord,
} from './tokens';

export interface FakeEntraOptions {
  /** Clock in ms (token expiry, device code and auth code expiry, refresh-token inactivity). Default Date.now. */
  now?: () => number;
}

export interface RegisterEntraAppInput {
  clientId: string;
  clientSecret?: string;
  redirectUris?: string[];
  displayName?: string;
  /** Device code flow without a client secret ("Allow public client flows"). Default true. */
  allowPublicClientFlows?: boolean;
  /** `roles` in client-credentials tokens. */
  appRoles?: string[];
}

export interface AddEntraUserInput {
  username: string;
  /** Default: one tenant per mail domain (users of contoso.com share it), generated on first use. */
  tenantId?: string;
  displayName?: string;
}

export interface EntraTokenRequest {
  /** grant_type exactly as sent (`device_code` and the URN spelling are both kept as they came). */
  grantType: string;
  clientId?: string;
  username?: string;
  /** ms, by the fake's clock */
  at: number;
  /** The tenant path segment used (`organizations`, a tenant id, …). */
  tenant: string;
  scope?: string;
  /** HTTP status answered (0 when the connection was reset). */
  status: number;
  error?: string;
  errorCode?: number;
}

export interface EntraDeviceCode {
  userCode: string;
  deviceCode: string;
  clientId: string;
  scopes: string[];
  verificationUri: string;
  issuedAt: number;
  expiresAt: number;
  status: 'pending' | 'approved' | 'declined' | 'expired' | 'redeemed';
  username?: string;
  /** Tenant path segment the code was requested under (organizations, common, a tenant id, …). */
  tenant: string;
}

export type GrantRevocationKind = 'revoked' | 'consent_withdrawn' | 'expired';

export interface TokenEndpointFailure {
  /** 'reset': the TCP connection is destroyed without an answer (a network error for the client). */
  status: 500 | 503 | 429 | 'reset';
  retryAfterSeconds?: number;
  /** Only requests with this grant_type consume the failure (default: any). */
  grantType?: string;
}

export interface EntraIntrospection {
  active: boolean;
  username?: string;
  sub?: string;
  oid?: string;
  tid?: string;
  client_id?: string;
  scope?: string;
  aud?: string;
  exp?: number;
  iat?: number;
  token_type?: 'Bearer';
}

interface AuthorizationCode {
  code: string;
  clientId: string;
  redirectUri: string;
  scope: string;
  username: string;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  issuedAt: number;
  expiresAt: number;
  redeemed: boolean;
}

interface ResolvedTenant {
  segment: string;
  kind: 'common' | 'organizations' | 'consumers' | 'tenant';
  tenantId?: string;
}

type TokenOutcome = { ok: true; body: Record<string, unknown>; username?: string } | { ok: false; err: AadError; username?: string };

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const AUTH_CODE_LIFETIME_MS = 10 * 60 * 1000;
const REFRESH_TOKEN_INACTIVITY_MS = 90 * 24 * 3600 * 1000;
const USER_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/**
 * A fake Microsoft Entra ID (identity platform v2.0 endpoints) on https://127.0.0.1:<port>, speaking the
 * documented wire protocol: OpenID metadata, instance discovery, JWKS, /devicecode, /authorize, /token
 * (authorization_code with PKCE, refresh_token with rotation and reuse detection, device_code in both
 * spellings, client_credentials), AADSTS error bodies, plus /introspect for Dovecot's `passdb oauth2`.
 * The same port also answers plain HTTP (handy for Dovecot); msal-node needs the HTTPS form.
 */
export class FakeEntraId {
  /** `https://127.0.0.1:<port>` — the authority host; tenants are path segments below it. */
  readonly authorityHost: string;
  /** `127.0.0.1:<port>`, what msal-node's `knownAuthorities` needs. */
  readonly host: string;
  /** PEM of the self-signed server certificate; trust it (MsalNetworkClient `ca`, undici `connect.ca`, curl --cacert). */
  readonly caPem: string;
  /** `http://127.0.0.1:<port>`: the same endpoints without TLS. */
  readonly plainHttpBaseUrl: string;
  /** Every /token request in arrival order (including failed and injected-failure ones). */
  readonly tokenRequests: EntraTokenRequest[] = [];
  /** GETs of the OpenID metadata document (clients should cache it). */
  metadataRequests = 0;

  private readonly now: () => number;
  private readonly minter: TokenMinter;
  private readonly apps = new Map<string, FakeEntraApp>();
  private readonly users = new Map<string, FakeEntraUser>();
  private readonly tenantsByDomain = new Map<string, string>();
  private readonly grants = new Map<string, Grant>();
  private readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  private readonly accessTokens = new Map<string, EntraIssuedAccessToken>();
  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly deviceCodes: EntraDeviceCode[] = [];
  private readonly failures: Array<TokenEndpointFailure & { remaining: number }> = [];
  private accessTokenLifetime = 3600;
  private accessTokenLifetimeMax = 3600;
  private deviceCodeInterval = 5;
  private deviceCodeLifetime = 900;
  private tokenDelayMs = 0;
  /** undefined: the login_hint user (or a sign-in page); null: the user declines; string: that user. */
  private authorizeUser: string | null | undefined = undefined;
  /** Show the sign-in page even for a known login_hint (see signInOnPage). */
  private signInPageAlways = false;

  private constructor(
    private readonly server: ListeningServer,
    private readonly signingKey: SigningKey,
    caPem: string,
    now: () => number,
  ) {
    this.host = `127.0.0.1:${server.port}`;
    this.authorityHost = `https://${this.host}`;
    this.plainHttpBaseUrl = `http://${this.host}`;
    this.caPem = caPem;
    this.now = now;
    this.minter = new TokenMinter(signingKey, this.authorityHost);
  }

  static async start(options: FakeEntraOptions = {}): Promise<FakeEntraId> {
    const [tls, signingKey] = await Promise.all([generateLoopbackCertificate(), SigningKey.generate('fake-entra-token-signing')]);
    const { server, attach } = await listenForInstance('server_error', tls);
    const instance = new FakeEntraId(server, signingKey, tls.cert, options.now ?? Date.now);
    attach((req, res) => instance.handle(req, res));
    return instance;
  }

  async stop(): Promise<void> {
    await this.server.close();
  }

  // ---------------------------------------------------------------- configuration

  /** `${authorityHost}/${tenant}` */
  authority(tenant = 'organizations'): string {
    return `${this.authorityHost}/${tenant}`;
  }

  /** The `auth` options msal-node needs to talk to this fake without touching the internet. */
  msalAuthOptions(tenant = 'organizations'): { authority: string; knownAuthorities: string[] } {
    return { authority: this.authority(tenant), knownAuthorities: [this.host] };
  }

  tokenEndpoint(tenant = 'organizations'): string {
    return `${this.authorityHost}/${tenant}/oauth2/v2.0/token`;
  }

  deviceCodeEndpoint(tenant = 'organizations'): string {
    return `${this.authorityHost}/${tenant}/oauth2/v2.0/devicecode`;
  }

  authorizeEndpoint(tenant = 'organizations'): string {
    return `${this.authorityHost}/${tenant}/oauth2/v2.0/authorize`;
  }

  /** HTTPS introspection endpoint (RFC 7662 style: POST token=…). */
  get introspectionUrl(): string {
    return `${this.authorityHost}/introspect`;
  }

  registerApp(input: RegisterEntraAppInput): FakeEntraApp {
    const app: FakeEntraApp = {
      clientId: input.clientId,
      clientSecret: input.clientSecret,
      redirectUris: input.redirectUris,
      displayName: input.displayName ?? `App ${input.clientId.slice(0, 8)}`,
      allowPublicClientFlows: input.allowPublicClientFlows ?? true,
      appRoles: input.appRoles ?? [],
    };
    this.apps.set(app.clientId, app);
    return app;
  }

  addUser(input: AddEntraUserInput): { oid: string; tenantId: string } {
    const username = input.username.toLowerCase();
    const domain = username.split('@')[1] ?? 'example.com';
    const tenantId = input.tenantId ?? this.tenantIdFor(domain);
    if (input.tenantId && !this.tenantsByDomain.has(domain)) this.tenantsByDomain.set(domain, input.tenantId);
    const existing = this.users.get(username);
    const oid = existing?.oid ?? newGuid();
    const local = username.split('@')[0] ?? username;
    const displayName = input.displayName ?? local.replace(/[._-]+/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase());
    this.users.set(username, { username, oid, tenantId, displayName });
    return { oid, tenantId };
  }

  getUser(username: string): FakeEntraUser | undefined {
    return this.users.get(username.toLowerCase());
  }

  /** The tenant id of a domain (`contoso.com`, `contoso.onmicrosoft.com`); created on first use. */
  tenantIdFor(domain: string): string {
    const key = domain.toLowerCase();
    const alias = key.endsWith('.onmicrosoft.com') ? key : undefined;
    let id = this.tenantsByDomain.get(key);
    if (!id && alias) {
      const label = alias.slice(0, -'.onmicrosoft.com'.length);
      for (const [d, t] of this.tenantsByDomain) if (d.split('.')[0] === label) id = t;
    }
    if (!id) {
      id = newGuid();
      this.tenantsByDomain.set(key, id);
      this.tenantsByDomain.set(`${key.split('.')[0]}.onmicrosoft.com`, id);
    }
    return id;
  }

  /** Fixed lifetime, or (with `maxSeconds`) a random one per token, as Entra's default 60–90 minutes. */
  setAccessTokenLifetime(seconds: number, maxSeconds = seconds): void {
    this.accessTokenLifetime = seconds;
    this.accessTokenLifetimeMax = Math.max(seconds, maxSeconds);
  }

  private nextLifetime(): number {
    return this.accessTokenLifetime + Math.floor(Math.random() * (this.accessTokenLifetimeMax - this.accessTokenLifetime + 1));
  }

  setDeviceCodeInterval(seconds: number): void {
    this.deviceCodeInterval = seconds;
  }

  /** Lifetime of new device codes (expires_in), default 900 s. */
  setDeviceCodeLifetime(seconds: number): void {
    this.deviceCodeLifetime = seconds;
  }

  /** Delay every /token answer (to widen race windows in concurrency tests). */
  setTokenResponseDelay(ms: number): void {
    this.tokenDelayMs = ms;
  }

  /**
   * The user /authorize signs in as (auto-consent); null → the user declines (error=access_denied);
   * undefined (the initial state) → the login_hint user if known, else a sign-in page (HTML form).
   */
  authorizeAs(username: string | null | undefined): void {
    if (typeof username === 'string' && !this.users.has(username.toLowerCase())) throw new Error(`FakeEntraId: unknown user ${username}`);
    this.authorizeUser = typeof username === 'string' ? username.toLowerCase() : username;
  }

  /**
   * /authorize shows its sign-in page (the account, Accept or Cancel) even when login_hint names a known
   * user, as Entra does the first time a person consents: a browser test then goes through that page.
   */
  signInOnPage(on = true): void {
    this.signInPageAlways = on;
  }

  approveDeviceCode(userCode: string, username: string): void {
    const entry = this.pendingDeviceCode(userCode);
    const user = this.users.get(username.toLowerCase());
    if (!user) throw new Error(`FakeEntraId: unknown user ${username}`);
    const tenant = this.resolveTenant(entry.tenant);
    if (tenant && !this.userAllowed(tenant, user)) {
      throw new Error(`FakeEntraId: AADSTS50020: user ${user.username} cannot sign in under tenant '${entry.tenant}'`);
    }
    entry.status = 'approved';
    entry.username = user.username;
  }

  declineDeviceCode(userCode: string): void {
    this.pendingDeviceCode(userCode).status = 'declined';
  }

  expireDeviceCode(userCode: string): void {
    const entry = this.deviceCodes.find((d) => d.userCode === userCode.toUpperCase());
    if (!entry) throw new Error(`FakeEntraId: unknown user code ${userCode}`);
    entry.status = 'expired';
  }

  /** A snapshot of the latest issued device code. */
  lastDeviceCode(): EntraDeviceCode | undefined {
    const last = this.deviceCodes[this.deviceCodes.length - 1];
    if (last) this.expireByClock(last);
    return last ? { ...last, scopes: [...last.scopes] } : undefined;
  }

  /**
   * Makes the user's existing grants fail on the next refresh_token redemption, for good:
   * 'revoked' → AADSTS50173 (password reset / "revoke sessions"), 'consent_withdrawn' → AADSTS65001
   * (suberror consent_required), 'expired' → AADSTS700082 (inactive 90 days). Access tokens already
   * issued stay valid until they expire, as with the real service; see invalidateAccessTokens.
   * New sign-ins after this work again.
   */
  revokeGrants(username: string, kind: GrantRevocationKind = 'revoked'): void {
    const name = username.toLowerCase();
    for (const grant of this.grants.values()) {
      if (grant.username === name && !grant.revoked) grant.revoked = { kind, at: this.now() };
    }
  }

  /** Makes the user's issued access tokens inactive for introspection/isAccessTokenValid (CAE-like). */
  invalidateAccessTokens(username: string): void {
    for (const at of this.accessTokens.values()) if (at.username === username.toLowerCase()) at.invalidated = true;
  }

  /** The next `count` /token requests (optionally of one grant type) fail with this status and an Entra-style body. */
  failNextTokenRequests(count: number, failure: TokenEndpointFailure): void {
    this.failures.push({ ...failure, remaining: count });
  }

  get issuedAccessTokens(): EntraIssuedAccessToken[] {
    return [...this.accessTokens.values()];
  }

  isAccessTokenValid(token: string): boolean {
    const record = this.accessTokens.get(token);
    return !!record && !record.invalidated && this.now() < record.expiresAt;
  }

  introspect(token: string): EntraIntrospection {
    const record = this.accessTokens.get(token);
    if (!record || !this.isAccessTokenValid(token)) return { active: false };
    return {
      active: true,
      username: record.username,
      sub: record.oid,
      oid: record.oid,
      tid: record.tenantId,
      client_id: record.clientId,
      scope: record.scopes.join(' '),
      aud: record.audience,
      exp: Math.floor(record.expiresAt / 1000),
      iat: Math.floor(record.issuedAt / 1000),
      token_type: 'Bearer',
    };
  }

  /** Refresh tokens currently valid (not rotated away, grant not revoked) for a user. */
  /**
   * A refresh token for `username`, as if the user had consented to `scope` earlier (benchmarks seed
   * thousands of grants without a sign-in each). It behaves exactly like one obtained over HTTP.
   */
  mintRefreshToken(clientId: string, username: string, scope = 'offline_access https://outlook.office.com/IMAP.AccessAsUser.All'): string {
    const app = this.apps.get(clientId);
    const user = this.users.get(username.toLowerCase());
    if (!app || !user) throw new Error(`unknown app ${clientId} or user ${username}`);
    const grant = this.newGrant(app, user, scope, Boolean(app.clientSecret));
    const refreshToken = newRefreshToken();
    this.refreshTokens.set(refreshToken, { token: refreshToken, grantId: grant.id, issuedAt: this.now() });
    grant.currentRefreshToken = refreshToken;
    return refreshToken;
  }

  liveRefreshTokens(username: string, clientId?: string): string[] {
    const name = username.toLowerCase();
    return [...this.grants.values()]
      .filter((g) => g.username === name && !g.revoked && (!clientId || g.clientId === clientId) && g.currentRefreshToken)
      .map((g) => g.currentRefreshToken as string);
  }

  // ---------------------------------------------------------------- HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.authorityHost);
    const segments = url.pathname.split('/').filter(Boolean);
    const method = req.method ?? 'GET';
    // msal-node sends its correlation id as a `client-request-id` query parameter, other clients as a header.
    const correlationId = header(req, 'client-request-id') ?? url.searchParams.get('client-request-id') ?? undefined;
    if (correlationId) res.setHeader('client-request-id', correlationId);
    res.setHeader('x-ms-request-id', newGuid());

    // A browser showing the sign-in pages asks the origin for its icon; a 404 there is a console error in a browser test.
    if (url.pathname === '/favicon.ico' && method === 'GET') {
      res.writeHead(204).end();
      return;
    }
    const [first, ...rest] = segments;
    if (!first) return sendJson(res, 404, { error: 'not_found' });
    const path = rest.join('/');

    if (segments.length === 1) {
      if (first === 'introspect') return this.handleIntrospect(req, res, url);
      if (first === 'devicelogin') return this.handleDeviceLogin(req, res);
      if (first === 'error' && method === 'GET') {
        return sendHtml(res, 200, `<html><body><h1>Error ${escapeHtml(url.searchParams.get('code') ?? '')}</h1></body></html>`);
      }
    }
    if (first === 'oidc' && path === 'userinfo') return this.handleUserInfo(req, res);

    const tenant = this.resolveTenant(first);
    if (path === 'discovery/instance' && method === 'GET') return this.handleInstanceDiscovery(res, url);
    if (!tenant) {
      return sendJson(
        res,
        400,
        aadErrorBody(
          {
            status: 400,
            error: 'invalid_tenant',
            code: 90002,
            message: `Tenant '${first}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
          },
          this.errorContext(correlationId),
        ),
      );
    }
    if (path === 'v2.0/.well-known/openid-configuration' && method === 'GET') {
      this.metadataRequests += 1;
      return sendJson(res, 200, this.openIdConfiguration(tenant));
    }
    if ((path === 'discovery/v2.0/keys' || path === 'discovery/keys') && method === 'GET') {
      return sendJson(res, 200, { keys: [{ ...this.signingKey.jwk, issuer: `${this.authorityHost}/{tenantid}/v2.0` }] });
    }
    if (path === 'oauth2/v2.0/devicecode' && method === 'POST') return this.handleDeviceCode(req, res, tenant, correlationId);
    if (path === 'oauth2/v2.0/authorize' && (method === 'GET' || method === 'POST')) return this.handleAuthorize(req, res, url, tenant);
    if (path === 'oauth2/v2.0/token' && method === 'POST') return this.handleToken(req, res, tenant, correlationId);
    if (path === 'oauth2/v2.0/logout' && method === 'GET') {
      const back = url.searchParams.get('post_logout_redirect_uri');
      if (back) return redirect(res, back);
      return sendHtml(res, 200, '<html><body><h1>You signed out of your account</h1></body></html>');
    }
    return sendJson(res, 404, { error: 'not_found', error_description: `No route for ${method} ${url.pathname}` });
  }

  private errorContext(correlationId?: string) {
    return { baseUrl: this.authorityHost, now: this.now(), correlationId };
  }

  private resolveTenant(segment: string): ResolvedTenant | undefined {
    const lower = segment.toLowerCase();
    if (lower === 'common' || lower === 'organizations' || lower === 'consumers') return { segment, kind: lower };
    if (GUID.test(segment)) return { segment, kind: 'tenant', tenantId: lower };
    if (lower.includes('.')) return { segment, kind: 'tenant', tenantId: this.tenantIdFor(lower) };
    return undefined;
  }

  private userAllowed(tenant: ResolvedTenant, user: FakeEntraUser): boolean {
    switch (tenant.kind) {
      case 'common':
        return true;
      case 'organizations':
        return user.tenantId !== MSA_TENANT_ID;
      case 'consumers':
        return user.tenantId === MSA_TENANT_ID;
      default:
        return user.tenantId === tenant.tenantId;
    }
  }

  private openIdConfiguration(tenant: ResolvedTenant): Record<string, unknown> {
    const base = this.authorityHost;
    const pathTenant = tenant.kind === 'tenant' ? (tenant.tenantId as string) : tenant.segment;
    const issuerTenant = tenant.kind === 'tenant' ? tenant.tenantId : tenant.kind === 'consumers' ? MSA_TENANT_ID : '{tenantid}';
    return {
      token_endpoint: `${base}/${pathTenant}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/${pathTenant}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/${issuerTenant}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${base}/oidc/userinfo`,
      authorization_endpoint: `${base}/${pathTenant}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/${pathTenant}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/${pathTenant}/oauth2/v2.0/logout`,
      claims_supported: [
        'sub',
        'iss',
        'cloud_instance_name',
        'cloud_instance_host_name',
        'cloud_graph_host_name',
        'msgraph_host',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'acr',
        'nonce',
        'preferred_username',
        'name',
        'tid',
        'ver',
        'at_hash',
        'c_hash',
        'email',
      ],
      kerberos_endpoint: `${base}/${pathTenant}/kerberos`,
      tenant_region_scope: null,
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    };
  }

  private handleInstanceDiscovery(res: ServerResponse, url: URL): void {
    let tenant = 'common';
    const endpoint = url.searchParams.get('authorization_endpoint');
    if (endpoint) {
      try {
        tenant = new URL(endpoint).pathname.split('/').filter(Boolean)[0] ?? 'common';
      } catch {
        // keep common
      }
    }
    sendJson(res, 200, {
      tenant_discovery_endpoint: `${this.authorityHost}/${tenant}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: this.host, preferred_cache: this.host, aliases: [this.host, `localhost:${this.server.port}`] }],
    });
  }

  private sendAadError(res: ServerResponse, err: AadError, correlationId?: string, headers: Record<string, string> = {}): void {
    sendJson(res, err.status, aadErrorBody(err, this.errorContext(correlationId)), headers);
  }

  // ---------------------------------------------------------------- device code

  private pendingDeviceCode(userCode: string): EntraDeviceCode {
    const entry = this.deviceCodes.find((d) => d.userCode === userCode.toUpperCase().replace(/[\s-]/g, ''));
    if (!entry) throw new Error(`FakeEntraId: unknown user code ${userCode}`);
    this.expireByClock(entry);
    if (entry.status !== 'pending') throw new Error(`FakeEntraId: device code ${userCode} is ${entry.status}`);
    return entry;
  }

  private expireByClock(entry: EntraDeviceCode): void {
    if ((entry.status === 'pending' || entry.status === 'approved') && this.now() >= entry.expiresAt) entry.status = 'expired';
  }

  private async handleDeviceCode(req: IncomingMessage, res: ServerResponse, tenant: ResolvedTenant, correlationId?: string): Promise<void> {
    const params = await readParams(req);
    const clientId = params.client_id;
    if (!clientId) return this.sendAadError(res, Aadsts.missingParameter('client_id'), correlationId);
    if (!this.apps.has(clientId)) return this.sendAadError(res, Aadsts.applicationNotFound(clientId, tenant.segment), correlationId);
    if (!params.scope) return this.sendAadError(res, Aadsts.missingParameter('scope'), correlationId);
    if ('multipleResources' in parseScopes(params.scope)) return this.sendAadError(res, Aadsts.multipleResources(params.scope), correlationId);
    const now = this.now();
    let userCode = '';
    do {
      userCode = Array.from({ length: 9 }, () => USER_CODE_ALPHABET[Math.floor(Math.random() * USER_CODE_ALPHABET.length)]).join('');
    } while (this.deviceCodes.some((d) => d.userCode === userCode));
    const entry: EntraDeviceCode = {
      userCode,
      deviceCode: `DAQABIQEAAAD${randomToken(120)}`,
      clientId,
      scopes: splitScopes(params.scope),
      verificationUri: `${this.authorityHost}/devicelogin`,
      issuedAt: now,
      expiresAt: now + this.deviceCodeLifetime * 1000,
      status: 'pending',
      tenant: tenant.segment,
    };
    this.deviceCodes.push(entry);
    sendJson(res, 200, {
      user_code: entry.userCode,
      device_code: entry.deviceCode,
      verification_uri: entry.verificationUri,
      expires_in: this.deviceCodeLifetime,
      interval: this.deviceCodeInterval,
      message: `To sign in, use a web browser to open the page ${entry.verificationUri} and enter the code ${entry.userCode} to authenticate.`,
    });
  }

  /** A minimal /devicelogin page so a browser (playwright) can approve or decline a code. */
  private async handleDeviceLogin(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'POST') {
      const params = await readParams(req);
      try {
        if (params.action === 'decline') this.declineDeviceCode(params.code ?? '');
        else this.approveDeviceCode(params.code ?? '', params.login ?? '');
      } catch (error) {
        return sendHtml(res, 400, `<html><body><h1>Enter code</h1><p id="error">${escapeHtml((error as Error).message)}</p></body></html>`);
      }
      return sendHtml(
        res,
        200,
        `<html><body><h1>${params.action === 'decline' ? 'Sign-in declined' : 'You have signed in'}</h1><p>You may now close this window.</p></body></html>`,
      );
    }
    return sendHtml(
      res,
      200,
      `<html><body><h1>Enter code</h1><form method="POST" action="/devicelogin"><input name="code" placeholder="Code"/><input name="login" placeholder="Email"/><button name="action" value="approve">Next</button><button name="action" value="decline">Cancel</button></form></body></html>`,
    );
  }

  // ---------------------------------------------------------------- authorize

  private authorizeErrorPage(res: ServerResponse, err: AadError): void {
    const body = aadErrorBody(err, this.errorContext());
    sendHtml(
      res,
      err.status,
      `<html><head><title>Sign in to your account</title></head><body><h1>Sorry, but we're having trouble signing you in.</h1><p id="error">${escapeHtml(body.error_description)}</p></body></html>`,
    );
  }

  private async handleAuthorize(req: IncomingMessage, res: ServerResponse, url: URL, tenant: ResolvedTenant): Promise<void> {
    const params: Params = req.method === 'POST' ? await readParams(req) : queryParams(url);
    const clientId = params.client_id;
    if (!clientId) return this.authorizeErrorPage(res, Aadsts.missingParameter('client_id'));
    const app = this.apps.get(clientId);
    if (!app) return this.authorizeErrorPage(res, Aadsts.applicationNotFound(clientId, tenant.segment));
    const redirectUri = params.redirect_uri ?? app.redirectUris?.[0];
    if (!redirectUri) return this.authorizeErrorPage(res, Aadsts.missingParameter('redirect_uri'));
    if (app.redirectUris?.length && !app.redirectUris.includes(redirectUri)) {
      return this.authorizeErrorPage(res, Aadsts.redirectUriNotRegistered(redirectUri, clientId));
    }
    const responseMode = params.response_mode;
    const back = (err: AadError) => {
      const body = aadErrorBody(err, this.errorContext());
      const out: Array<[string, string]> = [
        ['error', body.error],
        ['error_description', body.error_description],
        ['error_uri', body.error_uri],
      ];
      if (params.state) out.push(['state', params.state]);
      sendAuthorizationResponse(res, redirectUri, responseMode, out);
    };
    if (!params.response_type) return back(Aadsts.missingParameter('response_type'));
    if (params.response_type.split(' ').join(' ') !== 'code') return back(Aadsts.unsupportedResponseType(params.response_type));
    if (!params.scope) return back(Aadsts.missingParameter('scope'));
    if (params.code_challenge_method && !['S256', 'plain'].includes(params.code_challenge_method)) {
      return back(Aadsts.invalidCodeChallengeMethod());
    }
    if (params.code_challenge && (params.code_challenge.length < 43 || params.code_challenge.length > 128)) {
      return back(Aadsts.invalidCodeChallengeMethod());
    }

    // Who signs in.
    let username: string | null | undefined;
    if (req.method === 'POST' && params.fake_action) {
      username = params.fake_action === 'accept' ? (params.login ?? '').toLowerCase() : null;
      if (username !== null && !this.users.has(username)) return this.signInPage(res, url, params, `This username may be incorrect (AADSTS50034).`);
    } else if (this.signInPageAlways) {
      return this.signInPage(res, url, params);
    } else if (this.authorizeUser !== undefined) {
      username = this.authorizeUser;
    } else if (params.login_hint && this.users.has(params.login_hint.toLowerCase())) {
      username = params.login_hint.toLowerCase();
    } else if (params.prompt === 'none') {
      return back(Aadsts.loginRequired());
    } else {
      return this.signInPage(res, url, params);
    }
    if (username === null) return back(params.prompt === 'none' ? Aadsts.loginRequired() : Aadsts.accessDenied());
    const user = this.users.get(username) as FakeEntraUser;
    if (!this.userAllowed(tenant, user)) return this.authorizeErrorPage(res, Aadsts.userNotInTenant(user.username, tenant.segment));

    const now = this.now();
    const code = `1.A${randomToken(120)}`;
    this.codes.set(code, {
      code,
      clientId,
      redirectUri,
      scope: params.scope,
      username: user.username,
      nonce: params.nonce,
      codeChallenge: params.code_challenge,
      codeChallengeMethod: params.code_challenge ? (params.code_challenge_method ?? 'plain') : undefined,
      issuedAt: now,
      expiresAt: now + AUTH_CODE_LIFETIME_MS,
      redeemed: false,
    });
    const out: Array<[string, string]> = [['code', code]];
    if (params.client_info === '1') out.push(['client_info', clientInfo(user)]);
    if (params.state) out.push(['state', params.state]);
    out.push(['session_state', newGuid()]);
    sendAuthorizationResponse(res, redirectUri, responseMode, out);
  }

  /** The "Pick an account" page shown when no user is preset: POST it back with login + fake_action=accept|cancel. */
  private signInPage(res: ServerResponse, url: URL, params: Params, error?: string): void {
    const hidden = hiddenInputs(params, ['fake_action', 'login']);
    sendHtml(
      res,
      200,
      `<html><head><title>Sign in to your account</title></head><body><h1>Sign in</h1>${error ? `<p id="error">${escapeHtml(error)}</p>` : ''}<form method="POST" action="${escapeHtml(url.pathname)}">${hidden}<input name="login" type="email" placeholder="Email, phone, or Skype" value="${escapeHtml(params.login_hint ?? '')}"/><button name="fake_action" value="accept">Accept</button><button name="fake_action" value="cancel">Cancel</button></form></body></html>`,
    );
  }

  // ---------------------------------------------------------------- token

  private takeFailure(grantType: string): TokenEndpointFailure | undefined {
    const index = this.failures.findIndex((f) => f.remaining > 0 && (!f.grantType || f.grantType === grantType));
    if (index < 0) return undefined;
    const failure = this.failures[index] as TokenEndpointFailure & { remaining: number };
    failure.remaining -= 1;
    if (failure.remaining <= 0) this.failures.splice(index, 1);
    return failure;
  }

  private async handleToken(req: IncomingMessage, res: ServerResponse, tenant: ResolvedTenant, correlationId?: string): Promise<void> {
    const params = await readParams(req);
    const basic = basicCredentials(req);
    const grantType = params.grant_type ?? '';
    const record: EntraTokenRequest = {
      grantType,
      clientId: params.client_id ?? basic?.clientId,
      at: this.now(),
      tenant: tenant.segment,
      scope: params.scope,
      status: 0,
    };
    this.tokenRequests.push(record);

    const failure = this.takeFailure(grantType);
    if (failure) {
      if (failure.status === 'reset') {
        req.socket.destroy();
        return;
      }
      const err = failure.status === 500 ? Aadsts.serverError() : failure.status === 503 ? Aadsts.temporarilyUnavailable() : Aadsts.throttled();
      const retryAfter = failure.retryAfterSeconds ?? (failure.status === 429 ? 1 : undefined);
      record.status = err.status;
      record.error = err.error;
      record.errorCode = err.code;
      return this.sendAadError(res, err, correlationId, retryAfter !== undefined ? { 'Retry-After': String(retryAfter) } : {});
    }
    if (this.tokenDelayMs > 0) await sleep(this.tokenDelayMs);

    const outcome = this.token(params, basic, tenant);
    record.username = outcome.username;
    if (outcome.ok) {
      record.status = 200;
      return sendJson(res, 200, outcome.body);
    }
    record.status = outcome.err.status;
    record.error = outcome.err.error;
    record.errorCode = outcome.err.code;
    return this.sendAadError(res, outcome.err, correlationId);
  }

  private token(params: Params, basic: ReturnType<typeof basicCredentials>, tenant: ResolvedTenant): TokenOutcome {
    const clientId = params.client_id ?? basic?.clientId;
    if (!clientId) return { ok: false, err: Aadsts.missingParameter('client_id') };
    const grantType = params.grant_type;
    if (!grantType) return { ok: false, err: Aadsts.missingParameter('grant_type') };
    const app = this.apps.get(clientId);
    if (!app) return { ok: false, err: Aadsts.applicationNotFound(clientId, tenant.segment) };
    const presentedSecret = params.client_secret ?? basic?.clientSecret;
    const auth = (secretRequired: boolean): AadError | undefined => {
      if (!app.clientSecret) return presentedSecret || params.client_assertion ? Aadsts.publicClientWithSecret() : undefined;
      if (!presentedSecret) return secretRequired ? Aadsts.missingClientSecret() : undefined;
      return safeEqual(presentedSecret, app.clientSecret) ? undefined : Aadsts.invalidClientSecret(app.clientId);
    };

    switch (grantType) {
      case 'authorization_code':
        return this.authorizationCodeGrant(params, app, tenant, auth);
      case 'refresh_token':
        return this.refreshTokenGrant(params, app, auth);
      case DEVICE_CODE_GRANT:
      case 'device_code':
        return this.deviceCodeGrant(params, app, auth);
      case 'client_credentials':
        return this.clientCredentialsGrant(params, app, tenant, auth);
      default:
        return { ok: false, err: Aadsts.unsupportedGrantType(grantType) };
    }
  }

  private authorizationCodeGrant(
    params: Params,
    app: FakeEntraApp,
    tenant: ResolvedTenant,
    auth: (secretRequired: boolean) => AadError | undefined,
  ): TokenOutcome {
    if (!params.code) return { ok: false, err: Aadsts.missingParameter('code') };
    const code = this.codes.get(params.code);
    if (!code) return { ok: false, err: Aadsts.invalidAuthorizationCode() };
    const username = code.username;
    if (code.clientId !== app.clientId) return { ok: false, err: Aadsts.grantForOtherClient(), username };
    const authError = auth(true);
    if (authError) return { ok: false, err: authError, username };
    if (code.redeemed) return { ok: false, err: Aadsts.authorizationCodeRedeemed(), username };
    if (this.now() >= code.expiresAt) return { ok: false, err: Aadsts.authorizationCodeExpired(), username };
    if (!params.redirect_uri) return { ok: false, err: Aadsts.missingParameter('redirect_uri'), username };
    if (params.redirect_uri !== code.redirectUri) return { ok: false, err: Aadsts.redirectUriMismatch(params.redirect_uri, code.redirectUri), username };
    if (code.codeChallenge) {
      const verifier = params.code_verifier;
      const expected =
        code.codeChallengeMethod === 'plain' ? verifier : verifier ? createHash('sha256').update(verifier).digest('base64url') : undefined;
      if (!verifier || expected !== code.codeChallenge) return { ok: false, err: Aadsts.pkceMismatch(), username };
    }
    const scope = params.scope ?? code.scope;
    const parsed = parseScopes(scope);
    if ('multipleResources' in parsed) return { ok: false, err: Aadsts.multipleResources(scope), username };
    const user = this.users.get(username) as FakeEntraUser;
    if (!this.userAllowed(tenant, user)) return { ok: false, err: Aadsts.userNotInTenant(user.username, tenant.segment), username };
    code.redeemed = true;
    const grant = this.newGrant(app, user, code.scope + ' ' + scope, !!app.clientSecret);
    return {
      ok: true,
      body: this.delegatedResponse(app, user, parsed, grant, { nonce: code.nonce, clientInfo: params.client_info === '1' }),
      username,
    };
  }

  private refreshTokenGrant(params: Params, app: FakeEntraApp, auth: (secretRequired: boolean) => AadError | undefined): TokenOutcome {
    if (!params.refresh_token) return { ok: false, err: Aadsts.missingParameter('refresh_token') };
    const rt = this.refreshTokens.get(params.refresh_token);
    if (!rt) return { ok: false, err: Aadsts.malformedGrant() };
    const grant = this.grants.get(rt.grantId) as Grant;
    const username = grant.username;
    if (grant.clientId !== app.clientId) return { ok: false, err: Aadsts.grantForOtherClient(), username };
    const authError = auth(grant.confidential);
    if (authError) return { ok: false, err: authError, username };
    const now = this.now();
    if (grant.revoked) {
      switch (grant.revoked.kind) {
        case 'consent_withdrawn':
          return { ok: false, err: Aadsts.consentRequired(app.clientId, app.displayName), username };
        case 'expired':
          return { ok: false, err: Aadsts.refreshTokenInactive(rt.issuedAt), username };
        default:
          return { ok: false, err: Aadsts.grantRevoked(grant.issuedAt, grant.revoked.at), username };
      }
    }
    if (rt.redeemedAt !== undefined) {
      // Reuse of a rotated-away refresh token: treat the chain as stolen and revoke it.
      grant.revoked = { kind: 'reused', at: now };
      return { ok: false, err: Aadsts.refreshTokenReused(), username };
    }
    if (now - rt.issuedAt >= REFRESH_TOKEN_INACTIVITY_MS) {
      grant.revoked = { kind: 'expired', at: now };
      return { ok: false, err: Aadsts.refreshTokenInactive(rt.issuedAt), username };
    }
    const scope = params.scope ?? grant.scope;
    const parsed = parseScopes(scope);
    if ('multipleResources' in parsed) return { ok: false, err: Aadsts.multipleResources(scope), username };
    const user = this.users.get(username) as FakeEntraUser;
    rt.redeemedAt = now;
    return {
      ok: true,
      body: this.delegatedResponse(app, user, parsed, grant, { clientInfo: params.client_info === '1' }),
      username,
    };
  }

  private deviceCodeGrant(params: Params, app: FakeEntraApp, auth: (secretRequired: boolean) => AadError | undefined): TokenOutcome {
    const deviceCode = params.device_code ?? params.code;
    if (!deviceCode) return { ok: false, err: Aadsts.missingParameter('device_code') };
    const entry = this.deviceCodes.find((d) => d.deviceCode === deviceCode);
    if (!entry || entry.clientId !== app.clientId) return { ok: false, err: Aadsts.badVerificationCode() };
    const authError = auth(!app.allowPublicClientFlows);
    if (authError) return { ok: false, err: authError };
    this.expireByClock(entry);
    switch (entry.status) {
      case 'pending':
        return { ok: false, err: Aadsts.authorizationPending() };
      case 'declined':
        return { ok: false, err: Aadsts.authorizationDeclined() };
      case 'expired':
        return { ok: false, err: Aadsts.deviceCodeExpired() };
      case 'redeemed':
        return { ok: false, err: Aadsts.badVerificationCode(), username: entry.username };
      default:
        break;
    }
    const user = this.users.get(entry.username as string) as FakeEntraUser;
    const scope = entry.scopes.join(' ');
    const parsed = parseScopes(scope) as ParsedScopes;
    entry.status = 'redeemed';
    const grant = this.newGrant(app, user, scope, !!app.clientSecret && !!params.client_secret);
    return {
      ok: true,
      body: this.delegatedResponse(app, user, parsed, grant, { clientInfo: params.client_info === '1' }),
      username: user.username,
    };
  }

  private clientCredentialsGrant(
    params: Params,
    app: FakeEntraApp,
    tenant: ResolvedTenant,
    auth: (secretRequired: boolean) => AadError | undefined,
  ): TokenOutcome {
    if (!app.clientSecret) return { ok: false, err: Aadsts.missingClientSecret() };
    const authError = auth(true);
    if (authError) return { ok: false, err: authError };
    if (!params.scope) return { ok: false, err: Aadsts.missingParameter('scope') };
    const scopes = splitScopes(params.scope);
    if (scopes.length !== 1 || !(scopes[0] as string).endsWith('/.default')) return { ok: false, err: Aadsts.clientCredentialScope(params.scope) };
    if (tenant.kind !== 'tenant') return { ok: false, err: Aadsts.noTenant() };
    const scope = scopes[0] as string;
    const resourceRaw = scope.slice(0, -'/.default'.length);
    const resource = resourceRaw === '00000003-0000-0000-c000-000000000000' ? 'https://graph.microsoft.com' : resourceRaw;
    const lifetime = this.nextLifetime();
    const { token, record } = this.minter.appAccessToken({
      app,
      tenantId: tenant.tenantId as string,
      resource,
      now: this.now(),
      lifetimeSeconds: lifetime,
    });
    this.accessTokens.set(token, { token, ...record });
    return {
      ok: true,
      body: {
        token_type: 'Bearer',
        expires_in: lifetime,
        ext_expires_in: lifetime,
        access_token: token,
      },
    };
  }

  private newGrant(app: FakeEntraApp, user: FakeEntraUser, scope: string, confidential: boolean): Grant {
    const offline = splitScopes(scope).some((s) => s.toLowerCase() === 'offline_access');
    const grant: Grant = {
      id: newGuid(),
      clientId: app.clientId,
      username: user.username,
      scope: [...new Set(splitScopes(scope))].join(' '),
      offlineAccess: offline,
      confidential,
      issuedAt: this.now(),
    };
    this.grants.set(grant.id, grant);
    return grant;
  }

  private delegatedResponse(
    app: FakeEntraApp,
    user: FakeEntraUser,
    scopes: ParsedScopes,
    grant: Grant,
    options: { nonce?: string; clientInfo: boolean },
  ): Record<string, unknown> {
    const now = this.now();
    const lifetime = this.nextLifetime();
    const { token, record } = this.minter.delegatedAccessToken({ app, user, scopes, now, lifetimeSeconds: lifetime });
    this.accessTokens.set(token, { token, ...record });
    const body: Record<string, unknown> = {
      token_type: 'Bearer',
      scope: responseScope(scopes),
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: token,
    };
    if (grant.offlineAccess) {
      const refreshToken = newRefreshToken();
      this.refreshTokens.set(refreshToken, { token: refreshToken, grantId: grant.id, issuedAt: now });
      grant.currentRefreshToken = refreshToken;
      body.refresh_token = refreshToken;
    }
    if (scopes.openid || splitScopes(grant.scope).includes('openid')) {
      body.id_token = this.minter.idToken({ app, user, scopes, now, nonce: options.nonce });
    }
    if (options.clientInfo) body.client_info = clientInfo(user);
    return body;
  }

  // ---------------------------------------------------------------- introspection, userinfo

  /**
   * Token introspection for Dovecot's `passdb oauth2`: `introspection_mode = post` (form token=…),
   * `get` (…/introspect?token=…) and `auth` (Authorization: Bearer …) all work.
   */
  private async handleIntrospect(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    let token: string | undefined;
    if (req.method === 'POST') token = (await readParams(req)).token;
    token ??= url.searchParams.get('token') ?? url.searchParams.get('access_token') ?? undefined;
    if (!token && !url.search) token = bearerToken(req);
    if (!token) return sendJson(res, 400, { error: 'invalid_request', error_description: 'token is required' });
    sendJson(res, 200, this.introspect(token));
  }

  private handleUserInfo(req: IncomingMessage, res: ServerResponse): void {
    const token = bearerToken(req);
    const record = token ? this.accessTokens.get(token) : undefined;
    if (!token || !record || !this.isAccessTokenValid(token) || !record.username) {
      res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
      return sendJson(res, 401, { error: { code: 'InvalidAuthenticationToken', message: 'Access token validation failure.' } });
    }
    const user = this.users.get(record.username) as FakeEntraUser;
    const [given, ...family] = user.displayName.split(' ');
    sendJson(res, 200, {
      sub: uuidFrom(`userinfo|${user.oid}`),
      name: user.displayName,
      family_name: family.join(' '),
      given_name: given,
      picture: 'https://graph.microsoft.com/v1.0/me/photo/$value',
      email: user.username,
    });
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
