import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  basicCredentials,
  bearerToken,
  escapeHtml,
  hiddenInputs,
  queryParams,
  readParams,
  sendAuthorizationResponse,
  sendHtml,
  sendJson,
  type Params,
} from '../fake-entra/http';
import { SigningKey, halfHash, randomToken } from '../fake-entra/jwt';
import { listenForInstance, type ListeningServer } from '../fake-entra/tls';

export interface FakeGoogleOptions {
  /** Clock in ms for token expiry (tokeninfo, isAccessTokenValid, id_token iat/exp). Default Date.now. */
  now?: () => number;
}

export interface RegisterGoogleAppInput {
  clientId: string;
  clientSecret: string;
  /** When set, the auth endpoint and code exchange only accept these. */
  redirectUris?: string[];
}

export interface GoogleTokenRequest {
  grantType: string;
  clientId?: string;
  email?: string;
  /** ms, by the fake's clock */
  at: number;
  status: number;
  error?: string;
}

export interface GoogleIssuedAccessToken {
  token: string;
  clientId: string;
  email: string;
  scopes: string[];
  issuedAt: number;
  expiresAt: number;
  revoked: boolean;
}

export interface GoogleTokenFailure {
  status: 500 | 503 | 429;
  retryAfterSeconds?: number;
}

/** What google-auth-library's `OAuth2Client` takes as `endpoints` to talk to this fake. */
export interface FakeGoogleEndpoints {
  oauth2AuthBaseUrl: string;
  oauth2TokenUrl: string;
  oauth2RevokeUrl: string;
  tokenInfoUrl: string;
  oauth2FederatedSignonPemCertsUrl: string;
  oauth2FederatedSignonJwkCertsUrl: string;
}

interface GoogleUser {
  email: string;
  sub: string;
  name: string;
}

interface GoogleGrant {
  id: string;
  clientId: string;
  email: string;
  scopes: string[];
  refreshToken?: string;
  revoked: boolean;
}

interface GoogleCode {
  code: string;
  clientId: string;
  redirectUri: string;
  email: string;
  scopes: string[];
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  issueRefreshToken: boolean;
  expiresAt: number;
  redeemed: boolean;
}

type GoogleError = { status: number; error: string; description: string };
type Outcome = { ok: true; body: Record<string, unknown>; email?: string } | { ok: false; err: GoogleError; email?: string };

const SCOPE_ALIASES: Record<string, string> = {
  email: 'https://www.googleapis.com/auth/userinfo.email',
  profile: 'https://www.googleapis.com/auth/userinfo.profile',
};
const ISSUER = 'https://accounts.google.com';

/**
 * A fake Google OAuth 2.0 server (plain HTTP on 127.0.0.1) mirroring accounts.google.com /
 * oauth2.googleapis.com: `/o/oauth2/v2/auth`, `/token`, `/revoke`, `/tokeninfo`, the id_token signing
 * certificates (`/oauth2/v1/certs` PEM, `/oauth2/v3/certs` JWKS) and OpenID metadata. Error bodies are
 * Google's (`{ error, error_description }`). Refresh tokens are not rotated (refresh responses carry
 * no refresh_token, as Google's do); a refresh token is only issued for access_type=offline, on first
 * consent or with prompt=consent.
 */
export class FakeGoogleOAuth {
  readonly baseUrl: string;
  readonly tokenRequests: GoogleTokenRequest[] = [];

  private readonly now: () => number;
  private readonly apps = new Map<string, RegisterGoogleAppInput>();
  private readonly users = new Map<string, GoogleUser>();
  private readonly grants = new Map<string, GoogleGrant>();
  private readonly refreshTokens = new Map<string, string>();
  private readonly accessTokens = new Map<string, GoogleIssuedAccessToken & { grantId: string }>();
  private readonly codes = new Map<string, GoogleCode>();
  private readonly failures: Array<GoogleTokenFailure & { remaining: number }> = [];
  private accessTokenLifetime = 3599;
  private authorizeUser: string | null | undefined = undefined;

  private constructor(
    private readonly server: ListeningServer,
    private readonly signingKey: SigningKey,
    now: () => number,
  ) {
    this.baseUrl = `http://127.0.0.1:${server.port}`;
    this.now = now;
  }

  static async start(options: FakeGoogleOptions = {}): Promise<FakeGoogleOAuth> {
    const signingKey = await SigningKey.generate('fake-google-token-signing');
    const { server, attach } = await listenForInstance('internal_failure');
    const instance = new FakeGoogleOAuth(server, signingKey, options.now ?? Date.now);
    attach((req, res) => instance.handle(req, res));
    return instance;
  }

  async stop(): Promise<void> {
    await this.server.close();
  }

  get endpoints(): FakeGoogleEndpoints {
    return {
      oauth2AuthBaseUrl: `${this.baseUrl}/o/oauth2/v2/auth`,
      oauth2TokenUrl: `${this.baseUrl}/token`,
      oauth2RevokeUrl: `${this.baseUrl}/revoke`,
      tokenInfoUrl: `${this.baseUrl}/tokeninfo`,
      oauth2FederatedSignonPemCertsUrl: `${this.baseUrl}/oauth2/v1/certs`,
      oauth2FederatedSignonJwkCertsUrl: `${this.baseUrl}/oauth2/v3/certs`,
    };
  }

  registerApp(input: RegisterGoogleAppInput): void {
    this.apps.set(input.clientId, { ...input });
  }

  addUser(email: string, options: { name?: string } = {}): { sub: string } {
    const key = email.toLowerCase();
    const digits = BigInt(`0x${createHash('sha256').update(key).digest('hex').slice(0, 16)}`).toString().padStart(20, '0');
    const sub = `1${digits.slice(0, 20)}`;
    const local = key.split('@')[0] ?? key;
    this.users.set(key, { email: key, sub, name: options.name ?? local.replace(/[._-]+/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase()) });
    return { sub };
  }

  /** The account the consent screen signs in as; null → the user clicks "Cancel" (error=access_denied). */
  authorizeAs(email: string | null): void {
    if (email !== null && !this.users.has(email.toLowerCase())) throw new Error(`FakeGoogleOAuth: unknown user ${email}`);
    this.authorizeUser = email === null ? null : email.toLowerCase();
  }

  /** The user removes the app's access (myaccount.google.com/permissions): refresh and access tokens die. */
  revoke(email: string): void {
    const key = email.toLowerCase();
    for (const grant of this.grants.values()) if (grant.email === key) grant.revoked = true;
    for (const at of this.accessTokens.values()) if (at.email === key) at.revoked = true;
  }

  failNextTokenRequests(count: number, failure: GoogleTokenFailure): void {
    this.failures.push({ ...failure, remaining: count });
  }

  setAccessTokenLifetime(seconds: number): void {
    this.accessTokenLifetime = seconds;
  }

  get issuedAccessTokens(): GoogleIssuedAccessToken[] {
    return [...this.accessTokens.values()].map(({ grantId: _grantId, ...rest }) => rest);
  }

  isAccessTokenValid(token: string): boolean {
    const at = this.accessTokens.get(token);
    return !!at && !at.revoked && !this.grants.get(at.grantId)?.revoked && this.now() < at.expiresAt;
  }

  /** RFC 7662-style view (also served at POST /introspect, for Dovecot's passdb oauth2). */
  introspect(token: string): { active: boolean; username?: string; email?: string; scope?: string; exp?: number; client_id?: string } {
    const at = this.accessTokens.get(token);
    if (!at || !this.isAccessTokenValid(token)) return { active: false };
    return { active: true, username: at.email, email: at.email, scope: at.scopes.join(' '), exp: Math.floor(at.expiresAt / 1000), client_id: at.clientId };
  }

  // ---------------------------------------------------------------- HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const method = req.method ?? 'GET';
    switch (url.pathname) {
      case '/o/oauth2/v2/auth':
      case '/o/oauth2/auth':
        return this.handleAuth(req, res, url);
      case '/token':
      case '/o/oauth2/token':
        if (method !== 'POST') break;
        return this.handleToken(req, res);
      case '/revoke':
      case '/o/oauth2/revoke':
        return this.handleRevoke(req, res, url);
      case '/tokeninfo':
      case '/oauth2/v3/tokeninfo':
        return this.handleTokenInfo(req, res, url);
      case '/introspect': {
        const token = method === 'POST' ? (await readParams(req)).token : (url.searchParams.get('token') ?? bearerToken(req));
        return sendJson(res, 200, this.introspect(token ?? ''));
      }
      case '/oauth2/v1/certs':
        return sendJson(res, 200, { [this.signingKey.kid]: this.signingKey.certificatePem }, { 'Cache-Control': 'public, max-age=300' });
      case '/oauth2/v3/certs':
        return sendJson(res, 200, { keys: [this.signingKey.jwk] }, { 'Cache-Control': 'public, max-age=300' });
      case '/.well-known/openid-configuration':
        return sendJson(res, 200, {
          issuer: ISSUER,
          authorization_endpoint: `${this.baseUrl}/o/oauth2/v2/auth`,
          token_endpoint: `${this.baseUrl}/token`,
          userinfo_endpoint: `${this.baseUrl}/v1/userinfo`,
          revocation_endpoint: `${this.baseUrl}/revoke`,
          jwks_uri: `${this.baseUrl}/oauth2/v3/certs`,
          response_types_supported: ['code', 'token', 'id_token', 'code token', 'code id_token', 'token id_token', 'code token id_token', 'none'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
          scopes_supported: ['openid', 'email', 'profile'],
          token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
          claims_supported: ['aud', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'iat', 'iss', 'name', 'picture', 'sub'],
          code_challenge_methods_supported: ['plain', 'S256'],
          grant_types_supported: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
        });
      case '/v1/userinfo':
      case '/oauth2/v3/userinfo': {
        const token = bearerToken(req);
        const at = token ? this.accessTokens.get(token) : undefined;
        if (!token || !at || !this.isAccessTokenValid(token)) {
          return sendJson(res, 401, { error: 'invalid_request', error_description: 'Invalid Credentials' });
        }
        const user = this.users.get(at.email) as GoogleUser;
        return sendJson(res, 200, { sub: user.sub, name: user.name, email: user.email, email_verified: true });
      }
      default:
        break;
    }
    sendJson(res, 404, { error: 'not_found' });
  }

  private errorPage(res: ServerResponse, status: number, error: string, detail: string): void {
    sendHtml(
      res,
      status,
      `<html><head><title>Error ${status} (${escapeHtml(error)})</title></head><body><h1>Access blocked: Authorization Error</h1><p id="error">Error ${status}: ${escapeHtml(error)}</p><p>${escapeHtml(detail)}</p></body></html>`,
    );
  }

  private async handleAuth(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const params: Params = req.method === 'POST' ? await readParams(req) : queryParams(url);
    const app = params.client_id ? this.apps.get(params.client_id) : undefined;
    if (!app) return this.errorPage(res, 401, 'invalid_client', 'The OAuth client was not found.');
    const redirectUri = params.redirect_uri;
    if (!redirectUri) return this.errorPage(res, 400, 'invalid_request', 'Missing required parameter: redirect_uri');
    if (app.redirectUris?.length && !app.redirectUris.includes(redirectUri)) {
      return this.errorPage(res, 400, 'redirect_uri_mismatch', `You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. redirect_uri=${redirectUri}`);
    }
    const back = (error: string, description?: string) => {
      const out: Array<[string, string]> = [['error', error]];
      if (description) out.push(['error_description', description]);
      if (params.state) out.push(['state', params.state]);
      sendAuthorizationResponse(res, redirectUri, params.response_mode, out);
    };
    if (params.response_type !== 'code') return back('unsupported_response_type');
    if (!params.scope) return this.errorPage(res, 400, 'invalid_request', 'Missing required parameter: scope');
    if (params.code_challenge_method && !['S256', 'plain'].includes(params.code_challenge_method)) {
      return this.errorPage(res, 400, 'invalid_request', 'Invalid code_challenge_method value.');
    }

    let email: string | null | undefined;
    if (req.method === 'POST' && params.fake_action) {
      email = params.fake_action === 'accept' ? (params.login ?? '').toLowerCase() : null;
      if (email !== null && !this.users.has(email)) return this.chooserPage(res, url, params, "Couldn't find your Google Account");
    } else if (this.authorizeUser !== undefined) {
      email = this.authorizeUser;
    } else if (params.login_hint && this.users.has(params.login_hint.toLowerCase())) {
      email = params.login_hint.toLowerCase();
    } else if (params.prompt === 'none') {
      return back('login_required');
    } else {
      return this.chooserPage(res, url, params);
    }
    if (email === null) return back('access_denied');

    const scopes = expandScopes(params.scope);
    const offline = params.access_type === 'offline';
    const consent = (params.prompt ?? '').split(' ').includes('consent');
    const hasLiveRefresh = [...this.grants.values()].some((g) => g.email === email && g.clientId === app.clientId && !g.revoked && g.refreshToken);
    const code = `4/0A${randomToken(60)}`;
    this.codes.set(code, {
      code,
      clientId: app.clientId,
      redirectUri,
      email,
      scopes,
      nonce: params.nonce,
      codeChallenge: params.code_challenge,
      codeChallengeMethod: params.code_challenge ? (params.code_challenge_method ?? 'plain') : undefined,
      issueRefreshToken: offline && (consent || !hasLiveRefresh),
      expiresAt: this.now() + 10 * 60 * 1000,
      redeemed: false,
    });
    const out: Array<[string, string]> = [];
    if (params.state) out.push(['state', params.state]);
    out.push(['code', code], ['scope', scopes.join(' ')], ['authuser', '0'], ['prompt', consent ? 'consent' : 'none']);
    sendAuthorizationResponse(res, redirectUri, params.response_mode, out);
  }

  private chooserPage(res: ServerResponse, url: URL, params: Params, error?: string): void {
    const hidden = hiddenInputs(params, ['fake_action', 'login']);
    sendHtml(
      res,
      200,
      `<html><head><title>Sign in - Google Accounts</title></head><body><h1>Choose an account</h1>${error ? `<p id="error">${escapeHtml(error)}</p>` : ''}<form method="POST" action="${escapeHtml(url.pathname)}">${hidden}<input name="login" type="email" value="${escapeHtml(params.login_hint ?? '')}"/><button name="fake_action" value="accept">Allow</button><button name="fake_action" value="cancel">Cancel</button></form></body></html>`,
    );
  }

  private takeFailure(): GoogleTokenFailure | undefined {
    const failure = this.failures[0];
    if (!failure) return undefined;
    failure.remaining -= 1;
    if (failure.remaining <= 0) this.failures.shift();
    return failure;
  }

  private async handleToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const params = await readParams(req);
    const basic = basicCredentials(req);
    const record: GoogleTokenRequest = { grantType: params.grant_type ?? '', clientId: params.client_id ?? basic?.clientId, at: this.now(), status: 0 };
    this.tokenRequests.push(record);
    const failure = this.takeFailure();
    if (failure) {
      const err: GoogleError =
        failure.status === 429
          ? { status: 429, error: 'rate_limit_exceeded', description: 'Rate Limit Exceeded' }
          : failure.status === 503
            ? { status: 503, error: 'backend_error', description: 'Backend Error' }
            : { status: 500, error: 'internal_failure', description: 'Internal Failure' };
      record.status = err.status;
      record.error = err.error;
      return sendJson(
        res,
        err.status,
        { error: err.error, error_description: err.description },
        failure.retryAfterSeconds !== undefined ? { 'Retry-After': String(failure.retryAfterSeconds) } : {},
      );
    }
    const outcome = this.token(params, basic);
    record.email = outcome.email;
    record.status = outcome.ok ? 200 : outcome.err.status;
    if (outcome.ok) return sendJson(res, 200, outcome.body);
    record.error = outcome.err.error;
    sendJson(res, outcome.err.status, { error: outcome.err.error, error_description: outcome.err.description });
  }

  private token(params: Params, basic: ReturnType<typeof basicCredentials>): Outcome {
    const clientId = params.client_id ?? basic?.clientId;
    const app = clientId ? this.apps.get(clientId) : undefined;
    if (!app) return { ok: false, err: { status: 401, error: 'invalid_client', description: 'The OAuth client was not found.' } };
    const secret = params.client_secret ?? basic?.clientSecret;
    if (!secret) return { ok: false, err: { status: 400, error: 'invalid_request', description: 'client_secret is missing.' } };
    if (!safeEqual(secret, app.clientSecret)) return { ok: false, err: { status: 401, error: 'invalid_client', description: 'Unauthorized' } };
    const grantType = params.grant_type ?? '';
    if (grantType === 'authorization_code') return this.codeGrant(params, app);
    if (grantType === 'refresh_token') return this.refreshGrant(params, app);
    return { ok: false, err: { status: 400, error: 'unsupported_grant_type', description: `Invalid grant_type: ${grantType}` } };
  }

  private codeGrant(params: Params, app: RegisterGoogleAppInput): Outcome {
    if (!params.code) return { ok: false, err: { status: 400, error: 'invalid_request', description: 'Missing required parameter: code' } };
    const code = this.codes.get(params.code);
    if (!code) return { ok: false, err: { status: 400, error: 'invalid_grant', description: 'Malformed auth code.' } };
    const email = code.email;
    if (code.redeemed || this.now() >= code.expiresAt || code.clientId !== app.clientId) {
      return { ok: false, err: { status: 400, error: 'invalid_grant', description: 'Bad Request' }, email };
    }
    if (params.redirect_uri !== code.redirectUri) return { ok: false, err: { status: 400, error: 'redirect_uri_mismatch', description: 'Bad Request' }, email };
    if (code.codeChallenge) {
      const verifier = params.code_verifier;
      if (!verifier) return { ok: false, err: { status: 400, error: 'invalid_grant', description: 'Missing code verifier.' }, email };
      const computed = code.codeChallengeMethod === 'plain' ? verifier : createHash('sha256').update(verifier).digest('base64url');
      if (computed !== code.codeChallenge) return { ok: false, err: { status: 400, error: 'invalid_grant', description: 'Invalid code verifier.' }, email };
    }
    code.redeemed = true;
    const grant: GoogleGrant = { id: randomToken(12), clientId: app.clientId, email, scopes: code.scopes, revoked: false };
    if (code.issueRefreshToken) {
      grant.refreshToken = `1//0${randomToken(72)}`;
      this.refreshTokens.set(grant.refreshToken, grant.id);
    }
    this.grants.set(grant.id, grant);
    const body = this.tokenResponse(grant, code.nonce);
    if (grant.refreshToken) body.refresh_token = grant.refreshToken;
    return { ok: true, body: orderTokenBody(body), email };
  }

  private refreshGrant(params: Params, app: RegisterGoogleAppInput): Outcome {
    if (!params.refresh_token) return { ok: false, err: { status: 400, error: 'invalid_request', description: 'Missing required parameter: refresh_token' } };
    const grantId = this.refreshTokens.get(params.refresh_token);
    const grant = grantId ? this.grants.get(grantId) : undefined;
    if (!grant) return { ok: false, err: { status: 400, error: 'invalid_grant', description: 'Bad Request' } };
    if (grant.clientId !== app.clientId) return { ok: false, err: { status: 401, error: 'unauthorized_client', description: 'Unauthorized' }, email: grant.email };
    if (grant.revoked) return { ok: false, err: { status: 400, error: 'invalid_grant', description: 'Token has been expired or revoked.' }, email: grant.email };
    return { ok: true, body: this.tokenResponse(grant), email: grant.email };
  }

  private tokenResponse(grant: GoogleGrant, nonce?: string): Record<string, unknown> {
    const now = this.now();
    const accessToken = `ya29.${randomToken(120)}`;
    this.accessTokens.set(accessToken, {
      token: accessToken,
      clientId: grant.clientId,
      email: grant.email,
      scopes: grant.scopes,
      issuedAt: now,
      expiresAt: now + this.accessTokenLifetime * 1000,
      revoked: false,
      grantId: grant.id,
    });
    const body: Record<string, unknown> = {
      access_token: accessToken,
      expires_in: this.accessTokenLifetime,
      scope: grant.scopes.join(' '),
      token_type: 'Bearer',
    };
    if (grant.scopes.includes('openid')) {
      const user = this.users.get(grant.email) as GoogleUser;
      const iat = Math.floor(now / 1000);
      const domain = user.email.split('@')[1] ?? '';
      const claims: Record<string, unknown> = {
        iss: ISSUER,
        azp: grant.clientId,
        aud: grant.clientId,
        sub: user.sub,
      };
      if (domain !== 'gmail.com' && domain !== 'googlemail.com') claims.hd = domain;
      if (grant.scopes.includes(SCOPE_ALIASES.email as string)) {
        claims.email = user.email;
        claims.email_verified = true;
      }
      claims.at_hash = halfHash(accessToken);
      if (nonce) claims.nonce = nonce;
      if (grant.scopes.includes(SCOPE_ALIASES.profile as string)) claims.name = user.name;
      claims.iat = iat;
      claims.exp = iat + 3599;
      body.id_token = this.signingKey.sign(claims);
    }
    return body;
  }

  private async handleRevoke(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const form = req.method === 'POST' ? await readParams(req) : {};
    const token = url.searchParams.get('token') ?? form.token;
    const fromRefresh = token ? this.refreshTokens.get(token) : undefined;
    const fromAccess = token ? this.accessTokens.get(token)?.grantId : undefined;
    const grant = this.grants.get(fromRefresh ?? fromAccess ?? '');
    const dead = !grant || grant.revoked || (fromAccess !== undefined && !this.isAccessTokenValid(token as string));
    if (dead) return sendJson(res, 400, { error: 'invalid_token', error_description: 'Token expired or revoked' });
    grant.revoked = true;
    for (const at of this.accessTokens.values()) if (at.grantId === grant.id) at.revoked = true;
    sendJson(res, 200, {});
  }

  private async handleTokenInfo(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const form = req.method === 'POST' ? await readParams(req) : {};
    const token = url.searchParams.get('access_token') ?? form.access_token ?? bearerToken(req);
    const at = token ? this.accessTokens.get(token) : undefined;
    if (!token || !at || !this.isAccessTokenValid(token)) return sendJson(res, 400, { error: 'invalid_token', error_description: 'Invalid Value' });
    const user = this.users.get(at.email) as GoogleUser;
    const exp = Math.floor(at.expiresAt / 1000);
    // Google answers with strings for exp/expires_in/email_verified.
    sendJson(res, 200, {
      azp: at.clientId,
      aud: at.clientId,
      sub: user.sub,
      scope: at.scopes.join(' '),
      exp: String(exp),
      expires_in: String(Math.max(0, exp - Math.floor(this.now() / 1000))),
      email: user.email,
      email_verified: 'true',
      access_type: this.grants.get(at.grantId)?.refreshToken ? 'offline' : 'online',
    });
  }
}

/** Google reports the granted scopes in full form: `email` → `https://www.googleapis.com/auth/userinfo.email`. */
function expandScopes(scope: string): string[] {
  const out: string[] = [];
  for (const s of scope.split(/\s+/).filter(Boolean)) {
    const full = SCOPE_ALIASES[s] ?? s;
    if (!out.includes(full)) out.push(full);
  }
  return out;
}

function orderTokenBody(body: Record<string, unknown>): Record<string, unknown> {
  const { access_token, expires_in, refresh_token, scope, token_type, id_token, ...rest } = body;
  return Object.fromEntries(
    Object.entries({ access_token, expires_in, refresh_token, scope, token_type, id_token, ...rest }).filter(([, v]) => v !== undefined),
  );
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
