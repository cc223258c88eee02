import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { AppConfig } from '@app/config';
import { GRAPH_NOTIFICATIONS_QUEUE } from '@app/graph';
import { Clock } from '@app/clock';
import { AppsWorld } from './apps-world';
import { FakeEntraId } from './fake-entra';
import { FakeGraph, FakeGraphOptions } from './fake-graph';
import { startListener } from './listener-harness';
import { appProcessEnv, TEST_API_KEY } from './test-config';
import { queryDatabase } from './test-database';

/** The CRM's Entra app for delegated (per mailbox) Graph access: a confidential web app. */
export const GRAPH_WEB_APP_ID = '55555555-aaaa-4bbb-8ccc-000000000001';
export const GRAPH_WEB_APP_SECRET = 'graph-web-secret~do-not-log';
/** An app with the Mail.Read application role, for app-only (client credentials) providers. */
export const GRAPH_DAEMON_APP_ID = '55555555-aaaa-4bbb-8ccc-000000000002';
export const GRAPH_DAEMON_APP_SECRET = 'graph-daemon-secret~do-not-log';
export const GRAPH_MAIL_READ = 'offline_access https://graph.microsoft.com/Mail.Read';
/** What a provider that sends through Graph asks for: reading, sending, and the drafts of large messages (Mail.ReadWrite). */
export const GRAPH_SENDER_SCOPES = ['offline_access', 'https://graph.microsoft.com/Mail.Read', 'https://graph.microsoft.com/Mail.Send', 'https://graph.microsoft.com/Mail.ReadWrite'];

/** Real time plus an offset a test moves forward (timers keep running; only "now" jumps). */
export class ShiftedClock implements Clock {
  private offset = 0;

  now(): number {
    return Date.now() + this.offset;
  }

  advance(ms: number): void {
    this.offset += ms;
  }
}

export interface GraphWorldOptions {
  /** true (default): the listener gets PUBLIC_BASE_URL = the API, so Graph pushes; false: it polls. */
  push?: boolean;
  /** Start the listener in-process (default true); false for tests that run it as a process. */
  listener?: boolean;
  env?: NodeJS.ProcessEnv;
  graph?: Partial<Omit<FakeGraphOptions, 'entra' | 'now'>>;
}

export interface GraphSubscriptionRow extends Record<string, unknown> {
  subscription_id: string;
  folder_id: string;
  expires_at: Date;
  renewed_at: Date | null;
  last_notification_at: Date | null;
}

/**
 * Fake Entra ID and fake Microsoft Graph on one shifted clock (shared with the apps), a fresh database,
 * the real API and listener, and a delegated `microsoft-graph` provider pointing at the fake: what the
 * Graph listener tests start from. Graph calls the API's webhook receiver for real (PUBLIC_BASE_URL).
 */
export class GraphWorld extends AppsWorld {
  readonly clock = new ShiftedClock();
  entra!: FakeEntraId;
  graph!: FakeGraph;
  providerId!: string;
  caFile!: string;
  push = true;
  private redis?: Redis;

  async start(options: GraphWorldOptions = {}): Promise<this> {
    this.push = options.push ?? true;
    this.entra = await FakeEntraId.start({ now: () => this.clock.now() });
    this.entra.registerApp({ clientId: GRAPH_WEB_APP_ID, clientSecret: GRAPH_WEB_APP_SECRET, displayName: 'CRM Mail Listener' });
    this.entra.registerApp({ clientId: GRAPH_DAEMON_APP_ID, clientSecret: GRAPH_DAEMON_APP_SECRET, appRoles: ['Mail.Read'], displayName: 'CRM Mail Daemon' });
    this.graph = await FakeGraph.start({ entra: this.entra, now: () => this.clock.now(), ...options.graph });
    this.caFile = join(mkdtempSync(join(tmpdir(), 'ml-graph-ca-')), 'entra-ca.pem');
    writeFileSync(this.caFile, this.entra.caPem);
    await this.startApps(
      {
        OAUTH_CA_FILE: this.caFile,
        // Tests that need token refreshes drive them; the runner refreshes on demand anyway.
        OAUTH_REFRESH_CHECK_INTERVAL_MS: '600000',
        SYNC_RECONCILE_INTERVAL_MS: '200',
        // Off unless a test wants it: what arrives must arrive through push (or polling), not a sweep.
        GRAPH_SAFETY_DELTA_MINUTES: '0',
        GRAPH_POLL_INTERVAL_SECONDS: '1',
        ...options.env,
      },
      { listener: false, clock: this.clock },
    );
    this.redis = new Redis(this.config.redisUrl, { maxRetriesPerRequest: null });
    this.providerId = (await this.createProvider({ name: 'Microsoft 365 (Graph)', domains: ['contoso.com'] })).id;
    if (options.listener !== false) this.listener = await startListener(this.listenerConfig(), { clock: this.clock });
    return this;
  }

  async stop(): Promise<void> {
    await this.stopApps();
    this.redis?.disconnect();
    await this.graph?.stop();
    await this.entra?.stop();
  }

  /** The listener's configuration: the shared one, with PUBLIC_BASE_URL = the API when Graph should push. */
  listenerConfig(): AppConfig {
    return { ...this.config, publicBaseUrl: this.push ? this.api.url : undefined };
  }

  /**
   * The environment of a listener process joining this world (same database, Redis prefix, keys, settings);
   * `push: false` leaves PUBLIC_BASE_URL out even in a push world.
   */
  listenerEnv(port: number, extra: NodeJS.ProcessEnv = {}, push = this.push): NodeJS.ProcessEnv {
    const config = this.config;
    return {
      ...appProcessEnv(config, port),
      OAUTH_CA_FILE: this.caFile,
      OAUTH_REFRESH_CHECK_INTERVAL_MS: '600000',
      GRAPH_SAFETY_DELTA_MINUTES: String(config.graph.safetyDeltaMs / 60_000),
      GRAPH_POLL_INTERVAL_SECONDS: String(config.graph.pollIntervalMs / 1000),
      GRAPH_SUBSCRIPTION_MINUTES: String(config.graph.subscriptionMinutes),
      ...(push ? { PUBLIC_BASE_URL: this.api.url } : {}),
      ...extra,
    };
  }

  /** A `microsoft-graph` provider on the fake Graph and fake Entra ID (delegated unless `oauth.appOnly`). */
  async createProvider(body: { name: string; domains: string[]; oauth?: Record<string, unknown> }): Promise<{ id: string }> {
    const res = await this.api.http
      .post('/v1/providers')
      .set(this.api.auth)
      .send({
        type: 'microsoft-graph',
        authMethod: 'oauth2',
        graphBaseUrl: this.graph.baseUrl,
        ...body,
        oauth: {
          clientId: GRAPH_WEB_APP_ID,
          clientSecret: GRAPH_WEB_APP_SECRET,
          tenant: 'organizations',
          authorityHost: this.entra.authorityHost,
          scopes: GRAPH_MAIL_READ.split(' '),
          ...body.oauth,
        },
      })
      .expect(201);
    return res.body;
  }

  /** An app-only provider (client credentials for the tenant of `domain`) with its token acquired. */
  async createAppOnlyProvider(domain: string): Promise<{ id: string }> {
    const provider = await this.createProvider({
      name: `App-only ${domain}`,
      domains: [domain],
      oauth: {
        clientId: GRAPH_DAEMON_APP_ID,
        clientSecret: GRAPH_DAEMON_APP_SECRET,
        tenant: this.entra.tenantIdFor(domain),
        appOnly: true,
        // The fake Graph checks the audience: the Graph resource, not the fake's own origin.
        scopes: ['https://graph.microsoft.com/.default'],
      },
    });
    await this.api.http.post(`/v1/providers/${provider.id}/oauth/app-token`).set(this.api.auth).expect(200);
    return provider;
  }

  /**
   * The two providers the sending tests use: delegated senders at fabrikam.com (GRAPH_SENDER_SCOPES, load
   * off) and app-only senders at apponly.example through `app`, registered at Entra with `appRoles`, its
   * app token already obtained.
   */
  async createSendingProviders(app: { clientId: string; clientSecret: string; appRoles: string[] }): Promise<void> {
    await this.createProvider({ name: 'Graph senders', domains: ['fabrikam.com'], loadEmails: false, sendEmails: true, oauth: { scopes: GRAPH_SENDER_SCOPES } } as never);
    this.entra.registerApp({ clientId: app.clientId, clientSecret: app.clientSecret, appRoles: app.appRoles, displayName: 'CRM Mail Sender' });
    const appOnly = await this.createProvider({
      name: 'Graph app-only senders',
      domains: ['apponly.example'],
      loadEmails: false,
      sendEmails: true,
      oauth: { clientId: app.clientId, clientSecret: app.clientSecret, tenant: this.entra.tenantIdFor('apponly.example'), appOnly: true, scopes: ['https://graph.microsoft.com/.default'] },
    } as never);
    await this.api.http.post(`/v1/providers/${appOnly.id}/oauth/app-token`).set(this.api.auth).expect(200);
  }

  /** A user known to Entra ID and Graph (no mailbox in the listener yet). */
  addUser(email: string): void {
    if (!this.entra.getUser(email)) this.entra.addUser({ username: email });
    this.graph.addUser(email);
  }

  /**
   * A Graph mailbox: the user at Entra and Graph, the mailbox through the API and (delegated) its refresh
   * token imported as the CRM would. `token: false` leaves it without one (app-only providers need none).
   */
  async mailbox(email: string, extra: Record<string, unknown> = {}, options: { token?: boolean } = {}): Promise<{ id: string; email: string }> {
    this.addUser(email);
    const withToken = options.token !== false;
    // Created disabled until its token is there, so the listener starts it once (not once without a token and again with it).
    const res = await this.api.http
      .post('/v1/mailboxes')
      .set(this.api.auth)
      .send({ email, ...(withToken ? { enabled: false } : {}), ...extra })
      .expect(201);
    if (withToken) {
      const refreshToken = this.entra.mintRefreshToken(GRAPH_WEB_APP_ID, email, GRAPH_MAIL_READ);
      await this.api.http.put(`/v1/mailboxes/${res.body.id}/token`).set(this.api.auth).send({ refreshToken }).expect(200);
      if (extra.enabled !== false) await this.api.http.patch(`/v1/mailboxes/${res.body.id}`).set(this.api.auth).send({ enabled: true }).expect(200);
    }
    return { id: res.body.id, email };
  }

  /** graph_subscriptions rows of a mailbox, newest expiry first. */
  async subscriptionRows(mailboxId: string): Promise<GraphSubscriptionRow[]> {
    return queryDatabase<GraphSubscriptionRow>(
      this.db.url,
      `SELECT subscription_id, folder_id, expires_at, renewed_at, last_notification_at FROM graph_subscriptions WHERE mailbox_id = $1 ORDER BY expires_at DESC`,
      [mailboxId],
    );
  }

  /** Live subscriptions at the fake Graph for a mailbox. */
  graphSubscriptions(email: string) {
    return this.graph.subscriptions.filter((sub) => sub.email === email.toLowerCase());
  }

  /** How many jobs were ever added to `graph-notifications` (BullMQ's id counter; consumed jobs are gone). */
  async notificationJobsAdded(): Promise<number> {
    return Number((await this.redis!.get(`${this.config.queuePrefix}:${GRAPH_NOTIFICATIONS_QUEUE}:id`)) ?? 0);
  }

  /** The webhook URL Graph calls. */
  get notificationUrl(): string {
    return `${this.api.url}/v1/graph/notifications`;
  }
}
