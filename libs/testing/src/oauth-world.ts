import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as undiciRequest, Agent } from 'undici';
import { AppsWorld } from './apps-world';
import { FakeEntraId } from './fake-entra';
import { freePort } from './free-port';
import { FakeGoogleOAuth } from './fake-google';
import { ManualClock } from './manual-clock';

export const PUBLIC_CLIENT_ID = '0d3c6b8e-1111-4aaa-8bbb-000000000001';
export const WEB_CLIENT_ID = '0d3c6b8e-1111-4aaa-8bbb-000000000002';
export const WEB_CLIENT_SECRET = 'web-client-secret~do-not-log';
export const GOOGLE_CLIENT_ID = 'mail-listener.apps.googleusercontent.test';
export const GOOGLE_CLIENT_SECRET = 'google-client-secret-do-not-log';
export const OAUTH_REDIRECT_URI = 'http://127.0.0.1:3999/v1/oauth/callback';

/**
 * Everything an OAuth test needs, real: fake Entra ID (TLS) and fake Google on a shared manual clock,
 * a fresh Postgres database, the API and (optionally) the listener in-process on the same clock.
 */
export class OAuthWorld extends AppsWorld {
  readonly clock = new ManualClock();
  entra!: FakeEntraId;
  google!: FakeGoogleOAuth;
  private tls!: Agent;
  /** A free loopback port: IMAP connections to it are refused at once. */
  closedImapPort = 0;

  async start(options: { listener?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<this> {
    this.closedImapPort = await freePort();
    this.entra = await FakeEntraId.start({ now: () => this.clock.now() });
    this.entra.setDeviceCodeInterval(1);
    this.entra.registerApp({ clientId: PUBLIC_CLIENT_ID, redirectUris: [OAUTH_REDIRECT_URI] });
    this.entra.registerApp({ clientId: WEB_CLIENT_ID, clientSecret: WEB_CLIENT_SECRET, redirectUris: [OAUTH_REDIRECT_URI] });
    this.google = await FakeGoogleOAuth.start({ now: () => this.clock.now() });
    this.google.registerApp({ clientId: GOOGLE_CLIENT_ID, clientSecret: GOOGLE_CLIENT_SECRET, redirectUris: [OAUTH_REDIRECT_URI] });
    this.tls = new Agent({ connect: { ca: this.entra.caPem } });
    const caFile = join(mkdtempSync(join(tmpdir(), 'ml-ca-')), 'entra-ca.pem');
    writeFileSync(caFile, this.entra.caPem);
    await this.startApps(
      {
        OAUTH_CA_FILE: caFile,
        OAUTH_REDIRECT_URI,
        // The tests drive refresh passes themselves.
        OAUTH_REFRESH_CHECK_INTERVAL_MS: '600000',
        ...options.env,
      },
      { listener: Boolean(options.listener), clock: this.clock },
    );
    return this;
  }

  async stop(): Promise<void> {
    await this.stopApps();
    await this.entra?.stop();
    await this.google?.stop();
    await this.tls?.close();
  }

  /** GET over TLS trusting the fake's CA, without following redirects. */
  async get(url: string): Promise<{ status: number; location: string | undefined; body: string }> {
    const response = await undiciRequest(url, { method: 'GET', dispatcher: url.startsWith('https:') ? this.tls : undefined });
    const location = response.headers.location;
    return { status: response.statusCode, location: Array.isArray(location) ? location[0] : location, body: await response.body.text() };
  }

  /** A refresh token for `username`, obtained the way a CRM would have: a device-code sign-in of its own. */
  async refreshTokenFor(username: string, scope = 'offline_access https://outlook.office.com/IMAP.AccessAsUser.All', clientId = PUBLIC_CLIENT_ID): Promise<string> {
    const form = (body: Record<string, string>) => ({
      method: 'POST' as const,
      dispatcher: this.tls,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body).toString(),
    });
    const issued = (await (await undiciRequest(this.entra.deviceCodeEndpoint(), form({ client_id: clientId, scope }))).body.json()) as { device_code: string; user_code: string };
    this.entra.approveDeviceCode(issued.user_code, username);
    const tokens = (await (
      await undiciRequest(this.entra.tokenEndpoint(), form({ client_id: clientId, grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: issued.device_code }))
    ).body.json()) as { refresh_token?: string; error?: string };
    if (!tokens.refresh_token) throw new Error(`no refresh token: ${JSON.stringify(tokens)}`);
    return tokens.refresh_token;
  }

  /** Creates a Microsoft OAuth provider (public client unless a secret is given) on the fake Entra ID. */
  async createMicrosoftProvider(body: { name: string; domains: string[]; type?: string; host?: string; port?: number; oauth?: Record<string, unknown> }): Promise<{ id: string }> {
    const res = await this.api.http
      .post('/v1/providers')
      .set(this.api.auth)
      .send({
        type: 'imap',
        // A loopback port nothing listens on: a listener running in the test may only ever dial this machine.
        host: '127.0.0.1',
        port: this.closedImapPort,
        secure: false,
        authMethod: 'oauth2',
        ...body,
        oauth: { clientId: PUBLIC_CLIENT_ID, tenant: 'organizations', authorityHost: this.entra.authorityHost, ...body.oauth },
      })
      .expect(201);
    return res.body;
  }

  async createMailbox(email: string, extra: Record<string, unknown> = {}): Promise<{ id: string }> {
    return (await this.api.http.post('/v1/mailboxes').set(this.api.auth).send({ email, ...extra }).expect(201)).body;
  }

  /** Polls the mailbox status until `predicate` holds (device-code completion runs in the background). */
  async waitForStatus(mailboxId: string, predicate: (status: Record<string, any>) => boolean, timeoutMs = 15_000): Promise<Record<string, any>> {
    return this.waitFor(() => this.status(mailboxId), predicate, timeoutMs, `status of ${mailboxId}`);
  }
}
