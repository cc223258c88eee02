/**
 * The fake Microsoft Graph over real HTTP, with tokens from the fake Entra ID and a real receiver for
 * its validation handshakes and notifications: what the production Graph client and webhook receiver
 * will be tested against must itself behave like Graph.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeEntraId } from '../libs/testing/src/fake-entra';
import { FakeGraph, type FakeGraphMessage } from '../libs/testing/src/fake-graph';

const WEB_APP = '33333333-aaaa-4bbb-8ccc-000000000001';
const OTHER_APP = '33333333-aaaa-4bbb-8ccc-000000000002';
const DAEMON = '33333333-aaaa-4bbb-8ccc-000000000003';
const DAEMON_SECRET = 'daemon~secret-value';
const NO_ROLE_DAEMON = '33333333-aaaa-4bbb-8ccc-000000000004';
const MAIL_READ = 'offline_access https://graph.microsoft.com/Mail.Read';
const ANA = 'ana@contoso.com';
const BOB = 'bob@contoso.com';
const CAROL = 'carol@contoso.com';
const DAVE = 'dave@contoso.com';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Received {
  path: string;
  rawQuery: string;
  query: URLSearchParams;
  contentType?: string;
  body: string;
  json?: Json;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * Our side of the wire: answers handshakes correctly at any path except the ones named for a way of
 * getting it wrong, and notifications with 202 (or 500 while `failNext` says so).
 */
class Receiver {
  readonly received: Received[] = [];
  private readonly failures = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    readonly base: string,
  ) {}

  static async start(): Promise<Receiver> {
    let receiver: Receiver | undefined;
    const server = createServer((req, res) => void receiver?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver = new Receiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return receiver;
  }

  url(path: string): string {
    return `${this.base}${path}`;
  }

  failNext(path: string, count: number): void {
    this.failures.set(path, count);
  }

  validations(path?: string): Received[] {
    return this.received.filter((r) => r.query.has('validationToken') && (!path || r.path === path));
  }

  notifications(path: string): Json[] {
    return this.received.filter((r) => r.path === path && !r.query.has('validationToken')).map((r) => r.json as Json);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.base);
    const rawQuery = (req.url ?? '').split('?')[1] ?? '';
    const entry: Received = { path: url.pathname, rawQuery, query: url.searchParams, contentType: req.headers['content-type'], body };
    if (body && /json/.test(entry.contentType ?? '')) entry.json = JSON.parse(body) as Json;
    this.received.push(entry);

    const token = url.searchParams.get('validationToken');
    if (token !== null) {
      const rawToken = /(?:^|&)validationToken=([^&]*)/.exec(rawQuery)?.[1] ?? '';
      const text = (answer: string, status = 200) => {
        res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(answer);
      };
      switch (url.pathname) {
        case '/wrong':
          return text('not the token');
        case '/raw':
          return text(rawToken);
        case '/naive':
          return text(decodeURIComponent(rawToken));
        case '/status500':
          return text(token, 500);
        case '/as-json':
          res.writeHead(200, { 'Content-Type': 'application/json' });
          return void res.end(JSON.stringify(token));
        case '/slow':
          await sleep(800);
          return text(token);
        default:
          return text(token);
      }
    }
    const failing = this.failures.get(url.pathname) ?? 0;
    if (failing > 0) {
      this.failures.set(url.pathname, failing - 1);
      res.writeHead(500).end();
      return;
    }
    res.writeHead(202).end();
  }
}

describe('fake Microsoft Graph', () => {
  let entra: FakeEntraId;
  let graph: FakeGraph;
  let receiver: Receiver;
  let graphNow: number;
  let tenantId: string;
  const ids: Record<string, string> = {};
  const tokens: Record<string, string> = {};

  async function tokenRequest(tenant: string, form: Record<string, string>): Promise<string> {
    const response = await fetch(`${entra.plainHttpBaseUrl}/${tenant}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    const body = (await response.json()) as Json;
    if (!body.access_token) throw new Error(`no token: ${JSON.stringify(body)}`);
    return body.access_token as string;
  }

  /** A delegated access token as a signed-in user's refresh would give it. */
  function delegated(username: string, scope = MAIL_READ, clientId = WEB_APP): Promise<string> {
    const refreshToken = entra.mintRefreshToken(clientId, username, scope);
    return tokenRequest('organizations', { grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken });
  }

  function appOnly(clientId: string): Promise<string> {
    return tokenRequest(tenantId, {
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: DAEMON_SECRET,
      scope: 'https://graph.microsoft.com/.default',
    });
  }

  async function api(
    method: string,
    path: string,
    token?: string,
    options: { body?: unknown; headers?: Record<string, string>; rawBody?: string } = {},
  ): Promise<{ status: number; headers: Headers; json: Json }> {
    const headers: Record<string, string> = { ...options.headers };
    if (token) headers.Authorization = `Bearer ${token}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['Content-Type'] = 'application/json';
    }
    const response = await fetch(path.startsWith('http') ? path : `${graph.baseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    return { status: response.status, headers: response.headers, json: text ? (JSON.parse(text) as Json) : {} };
  }

  const inMinutes = (minutes: number) => new Date(graphNow + minutes * 60_000).toISOString();

  function subscribe(token: string, overrides: Json = {}, headers: Record<string, string> = {}) {
    return api('POST', '/subscriptions', token, {
      headers,
      body: {
        changeType: 'created',
        notificationUrl: receiver.url('/notify'),
        resource: `users/${ids[ANA]}/mailFolders('Inbox')/messages`,
        expirationDateTime: inMinutes(60),
        clientState: 'secret-client-state',
        ...overrides,
      },
    });
  }

  async function created(token: string, overrides: Json = {}, headers: Record<string, string> = {}): Promise<Json> {
    const response = await subscribe(token, overrides, headers);
    expect(response.status).toBe(201);
    return response.json;
  }

  /** Follows nextLinks to the deltaLink; returns every item and the pages' sizes. */
  async function deltaRound(first: string, token: string, headers: Record<string, string> = {}) {
    const items: Json[] = [];
    const pages: number[] = [];
    let link = first;
    for (;;) {
      const page = await api('GET', link, token, { headers });
      expect(page.status).toBe(200);
      items.push(...(page.json.value as Json[]));
      pages.push((page.json.value as Json[]).length);
      if (page.json['@odata.nextLink']) {
        expect(page.json['@odata.deltaLink']).toBeUndefined();
        link = page.json['@odata.nextLink'] as string;
        continue;
      }
      return { items, pages, deltaLink: page.json['@odata.deltaLink'] as string };
    }
  }

  beforeAll(async () => {
    graphNow = Date.parse('2026-11-21T10:00:00Z');
    entra = await FakeEntraId.start();
    graph = await FakeGraph.start({ entra, now: () => graphNow, validationTimeoutMs: 400 });
    receiver = await Receiver.start();
    entra.registerApp({ clientId: WEB_APP, displayName: 'CRM Mail Listener' });
    entra.registerApp({ clientId: OTHER_APP, displayName: 'Someone else' });
    entra.registerApp({ clientId: DAEMON, clientSecret: DAEMON_SECRET, appRoles: ['Mail.Read'] });
    entra.registerApp({ clientId: NO_ROLE_DAEMON, clientSecret: DAEMON_SECRET });
    for (const user of [ANA, BOB, CAROL, DAVE]) {
      entra.addUser({ username: user });
      ids[user] = graph.addUser(user).id;
    }
    tenantId = entra.tenantIdFor('contoso.com');
    tokens.ana = await delegated(ANA);
    tokens.bob = await delegated(BOB);
    tokens.app = await appOnly(DAEMON);
  });

  afterAll(async () => {
    await graph?.stop();
    await entra?.stop();
    await receiver?.close();
  });

  it('mailboxes take the Entra user ids and have the well-known folders', () => {
    expect(ids[ANA]).toBe(entra.getUser(ANA)?.oid);
    expect(graph.addUser('nobody@elsewhere.example').id).toMatch(/^[0-9a-f-]{36}$/);
    for (const name of ['inbox', 'sentitems', 'drafts', 'deleteditems', 'archive']) expect(graph.folderId(ANA, name)).toMatch(/^AQMk/);
  });

  it('answers 401 without a valid Graph token and 403 for a mailbox the token may not read', async () => {
    const path = `/users/${ANA}/mailFolders/inbox`;
    const none = await api('GET', path, undefined, { headers: { 'client-request-id': 'crm-req-1' } });
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe('InvalidAuthenticationToken');
    expect(none.json.error.message).toBe('Access token is empty.');
    expect(none.json.error.innerError['request-id']).toBe(none.headers.get('request-id'));
    expect(none.json.error.innerError['client-request-id']).toBe('crm-req-1');
    expect(none.headers.get('client-request-id')).toBe('crm-req-1');
    expect(none.json.error.innerError.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);

    const garbage = await api('GET', path, 'not-a-jwt');
    expect([garbage.status, garbage.json.error.code]).toEqual([401, 'InvalidAuthenticationToken']);
    expect(garbage.json.error.message).toMatch(/^IDX14100/);

    const imapToken = await delegated(ANA, 'offline_access https://outlook.office.com/IMAP.AccessAsUser.All');
    const wrongAudience = await api('GET', path, imapToken);
    expect([wrongAudience.status, wrongAudience.json.error.message]).toEqual([401, 'Invalid audience.']);

    const othersMailbox = await api('GET', path, tokens.bob);
    expect([othersMailbox.status, othersMailbox.json.error.code]).toEqual([403, 'ErrorAccessDenied']);
    const noMailScope = await api('GET', path, await delegated(ANA, 'offline_access User.Read'));
    expect([noMailScope.status, noMailScope.json.error.code]).toEqual([403, 'ErrorAccessDenied']);

    const own = await api('GET', '/me/mailFolders/inbox', tokens.ana);
    expect(own.status).toBe(200);
    expect(own.headers.get('content-type')).toMatch(/^application\/json;odata\.metadata=minimal/);
    expect(own.json).toMatchObject({ id: graph.folderId(ANA, 'inbox'), displayName: 'Inbox', totalItemCount: 0 });
    const me = await api('GET', '/me', tokens.ana);
    expect(me.json).toMatchObject({ id: ids[ANA], userPrincipalName: ANA, mail: ANA });

    const app = await api('GET', `/users/${ids[BOB]}/mailFolders('Inbox')`, tokens.app);
    expect([app.status, app.json.id]).toEqual([200, graph.folderId(BOB, 'inbox')]);
    const appByUpn = await api('GET', `/users/${encodeURIComponent(ANA)}/mailFolders/inbox`, tokens.app);
    expect(appByUpn.status).toBe(200);
    const appMe = await api('GET', '/me/mailFolders/inbox', tokens.app);
    expect([appMe.status, appMe.json.error.code]).toEqual([400, 'BadRequest']);
    const noRole = await api('GET', path, await appOnly(NO_ROLE_DAEMON));
    expect([noRole.status, noRole.json.error.code]).toEqual([403, 'ErrorAccessDenied']);
    const unknownUser = await api('GET', '/users/zoe@contoso.com/mailFolders/inbox', tokens.app);
    expect([unknownUser.status, unknownUser.json.error.code]).toEqual([404, 'ErrorInvalidUser']);
  });

  it('creates a subscription only after both endpoints echo the URL-decoded validationToken', async () => {
    const before = receiver.received.length;
    const response = await subscribe(tokens.ana, {
      notificationUrl: receiver.url('/notify?tenant=contoso'),
      lifecycleNotificationUrl: receiver.url('/lifecycle'),
      latestSupportedTlsVersion: 'v1_2',
    });
    expect(response.status).toBe(201);
    const sub = response.json;
    expect(sub).toMatchObject({
      '@odata.context': `${graph.baseUrl}/$metadata#subscriptions/$entity`,
      resource: `users/${ids[ANA]}/mailFolders('Inbox')/messages`,
      applicationId: WEB_APP,
      changeType: 'created',
      clientState: 'secret-client-state',
      notificationUrl: receiver.url('/notify?tenant=contoso'),
      lifecycleNotificationUrl: receiver.url('/lifecycle'),
      creatorId: ids[ANA],
      latestSupportedTlsVersion: 'v1_2',
    });
    expect(sub.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(sub.expirationDateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
    expect(Date.parse(sub.expirationDateTime)).toBe(graphNow + 60 * 60_000);

    const handshakes = receiver.received.slice(before);
    expect(handshakes.map((h) => h.path)).toEqual(['/notify', '/lifecycle']);
    for (const handshake of handshakes) {
      expect(handshake.contentType).toBe('text/plain; charset=utf-8');
      expect(handshake.body).toBe('');
      // Encoded as Graph does (.NET): '+' for spaces, lower-case escapes; decoding must turn '+' into ' '.
      expect(handshake.rawQuery).toMatch(/validationToken=Validation%3a\+Testing\+client\+application\+reachability\+for\+subscription\+Request-Id%3a\+[0-9a-f-]{36}/);
      expect(handshake.query.get('validationToken')).toMatch(/^Validation: Testing client application reachability for subscription Request-Id: /);
    }
    expect(handshakes[0]?.query.get('tenant')).toBe('contoso');
    expect(graph.subscription(sub.id as string)).toMatchObject({ userId: ids[ANA], folderId: graph.folderId(ANA, 'inbox'), immutableIds: false });
    const validations = graph.notificationDeliveries.filter((d) => d.kind === 'validation').slice(-2);
    expect(validations.map((d) => [d.url, d.status])).toEqual([
      [receiver.url('/notify?tenant=contoso'), 200],
      [receiver.url('/lifecycle'), 200],
    ]);
  });

  it('refuses the subscription when the handshake answer is wrong, still encoded, not text/plain, or too slow', async () => {
    const count = graph.subscriptions.length;
    const failed = async (path: string, lifecycle?: string) => {
      const response = await subscribe(tokens.ana, {
        notificationUrl: receiver.url(path),
        ...(lifecycle ? { lifecycleNotificationUrl: receiver.url(lifecycle) } : {}),
      });
      expect(response.status).toBe(400);
      return response.json.error as Json;
    };
    expect(await failed('/wrong')).toMatchObject({
      code: 'ValidationError',
      message: 'Subscription validation request failed. Response must exactly match validationToken query parameter.',
    });
    expect((await failed('/raw')).code).toBe('ValidationError');
    expect((await failed('/naive')).code).toBe('ValidationError');
    expect(await failed('/status500')).toMatchObject({
      code: 'ValidationError',
      message: 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
    });
    expect((await failed('/as-json')).code).toBe('ValidationError');
    const started = Date.now();
    expect(await failed('/slow')).toMatchObject({ code: 'InvalidRequest', message: 'Subscription validation request timed out.' });
    expect(Date.now() - started).toBeLessThan(800);
    expect((await failed('/notify', '/wrong')).code).toBe('ValidationError');
    const unreachable = await subscribe(tokens.ana, { notificationUrl: 'http://127.0.0.1:1/notify' });
    expect([unreachable.status, unreachable.json.error.code]).toEqual([400, 'ValidationError']);
    expect(graph.subscriptions).toHaveLength(count);
    expect(graph.notificationDeliveries.filter((d) => d.kind === 'validation' && d.error).map((d) => d.error)).toEqual(
      expect.arrayContaining(['timeout', 'HTTP 500', 'body does not match the decoded validationToken']),
    );
  });

  it('validates the subscription request like Graph, before any handshake', async () => {
    const handshakes = receiver.validations().length;
    const tooFar = await subscribe(tokens.ana, { expirationDateTime: inMinutes(10071) });
    expect([tooFar.status, tooFar.json.error.code, tooFar.json.error.message]).toEqual([
      400,
      'InvalidRequest',
      'Subscription expiration can only be 10070 minutes in the future.',
    ]);
    expect((await subscribe(tokens.ana, { expirationDateTime: inMinutes(10070) })).status).toBe(201);
    expect((await subscribe(tokens.ana, { expirationDateTime: inMinutes(-1) })).json.error.code).toBe('InvalidRequest');
    expect((await subscribe(tokens.ana, { expirationDateTime: 'tomorrow' })).status).toBe(400);
    expect((await subscribe(tokens.ana, { clientState: 'x'.repeat(129) })).json.error.code).toBe('ValidationError');
    expect((await subscribe(tokens.ana, { changeType: 'arrived' })).json.error.message).toMatch(/changeType 'arrived'/);
    expect((await subscribe(tokens.ana, { resource: 'me/events' })).json.error.code).toBe('InvalidRequest');
    expect((await subscribe(tokens.ana, { notificationUrl: undefined })).json.error.message).toMatch(/notificationUrl/);
    expect((await subscribe(tokens.ana, { latestSupportedTlsVersion: 'v9' })).status).toBe(400);
    expect((await subscribe(tokens.bob)).json.error.code).toBe('ErrorAccessDenied');
    const badJson = await api('POST', '/subscriptions', tokens.ana, { rawBody: '{"changeType":', headers: { 'Content-Type': 'application/json' } });
    expect([badJson.status, badJson.json.error.code]).toEqual([400, 'BadRequest']);
    // Only the one valid request above ran a handshake.
    expect(receiver.validations().length).toBe(handshakes + 1);
    for (const resource of ['/users/' + ANA + '/mailfolders/inbox/messages', "Me/MailFolders('inbox')/Messages", `users/${ids[ANA]}/messages`]) {
      expect((await subscribe(tokens.ana, { resource })).status).toBe(201);
    }
  });

  it('renews, reads and deletes a subscription; 404 ResourceNotFound once deleted or expired', async () => {
    const sub = await created(tokens.ana);
    const id = sub.id as string;
    const renewed = await api('PATCH', `/subscriptions/${id}`, tokens.ana, { body: { expirationDateTime: inMinutes(120) } });
    expect(renewed.status).toBe(200);
    expect(Date.parse(renewed.json.expirationDateTime)).toBe(graphNow + 120 * 60_000);
    expect(graph.subscription(id)?.expiresAt).toBe(graphNow + 120 * 60_000);
    const tooFar = await api('PATCH', `/subscriptions/${id}`, tokens.ana, { body: { expirationDateTime: inMinutes(20000) } });
    expect([tooFar.status, tooFar.json.error.code]).toEqual([400, 'InvalidRequest']);
    expect((await api('PATCH', `/subscriptions/${id}`, tokens.ana, { body: {} })).status).toBe(400);

    const read = await api('GET', `/subscriptions/${id}`, tokens.ana);
    expect([read.status, read.json.id, read.json.clientState]).toEqual([200, id, 'secret-client-state']);
    const listed = await api('GET', '/subscriptions', tokens.ana);
    expect((listed.json.value as Json[]).map((s) => s.id)).toContain(id);
    const otherApp = await api('GET', `/subscriptions/${id}`, await delegated(ANA, MAIL_READ, OTHER_APP));
    expect(otherApp.status).toBe(403);

    expect((await api('DELETE', `/subscriptions/${id}`, tokens.ana)).status).toBe(204);
    for (const [method, body] of [['GET'], ['PATCH', { expirationDateTime: inMinutes(30) }], ['DELETE']] as Array<[string, unknown?]>) {
      const gone = await api(method, `/subscriptions/${id}`, tokens.ana, body ? { body } : {});
      expect([gone.status, gone.json.error.code]).toEqual([404, 'ResourceNotFound']);
    }
    expect(graph.subscription(id)).toBeUndefined();

    const shortLived = (await created(tokens.ana, { expirationDateTime: inMinutes(30) })).id as string;
    expect((await api('GET', `/subscriptions/${shortLived}`, tokens.ana)).status).toBe(200);
    graphNow += 31 * 60_000;
    expect((await api('GET', `/subscriptions/${shortLived}`, tokens.ana)).json.error.code).toBe('ResourceNotFound');
    expect(graph.subscriptions.map((s) => s.id)).not.toContain(shortLived);
  });

  describe('notifications', () => {
    let subA: string;
    let subB: string;

    beforeAll(async () => {
      subA = (await created(tokens.ana, { notificationUrl: receiver.url('/notify-a'), lifecycleNotificationUrl: receiver.url('/lifecycle-a'), clientState: 'state-a' }))
        .id as string;
      subB = (
        await created(
          tokens.ana,
          { notificationUrl: receiver.url('/notify-b'), resource: `/Users/${ANA}/MailFolders/inbox/messages`, changeType: 'created,updated', clientState: undefined },
          { Prefer: 'IdType="ImmutableId"' },
        )
      ).id as string;
    });

    it('POSTs a change notification for a delivered message: regular or immutable id, clientState, tenantId', async () => {
      const message = graph.deliver(ANA, { subject: 'Quarterly numbers', from: 'cfo@contoso.com' });
      const [a] = await waitFor('notification A', () => receiver.notifications('/notify-a').length > 0 && receiver.notifications('/notify-a'));
      const resource = `Users/${ids[ANA]}/Messages/${message.regularId}`;
      expect(a).toEqual({
        value: [
          {
            subscriptionId: subA,
            subscriptionExpirationDateTime: graph.subscription(subA)?.expirationDateTime,
            changeType: 'created',
            resource,
            resourceData: { '@odata.type': '#Microsoft.Graph.Message', '@odata.id': resource, '@odata.etag': message.etag, id: message.regularId },
            clientState: 'state-a',
            tenantId,
          },
        ],
      });
      const [b] = await waitFor('notification B', () => receiver.notifications('/notify-b').length > 0 && receiver.notifications('/notify-b'));
      expect(b?.value[0]).toMatchObject({ subscriptionId: subB, resourceData: { id: message.immutableId }, clientState: null });
      expect(message.immutableId).toMatch(/^AAkA/);
      expect(message.regularId).toMatch(/^AAMk/);
      const post = receiver.received.find((r) => r.path === '/notify-a' && !r.query.has('validationToken'));
      expect(post?.contentType).toBe('application/json; charset=utf-8');

      graph.updateMessage(ANA, message.id, { isRead: true });
      graph.deliver(ANA, {}, 'archive');
      await graph.notificationsSettled();
      expect(receiver.notifications('/notify-a')).toHaveLength(1);
      expect(receiver.notifications('/notify-b').map((n) => n.value[0].changeType)).toEqual(['created', 'updated']);
      const changes = graph.notificationDeliveries.filter((d) => d.kind === 'change' && d.subscriptionId === subA);
      expect(changes.map((d) => [d.status, d.attempt, d.itemCount])).toEqual([[202, 1, 1]]);
    });

    it('batches 250 notifications into POSTs of at most 100, every message exactly once', async () => {
      const sub = await created(tokens.app, { notificationUrl: receiver.url('/batch'), resource: `users/${BOB}/mailFolders('inbox')/messages` });
      expect(sub.creatorId).not.toBe(ids[BOB]); // app-only: the service principal
      const messages = graph.deliverMany(BOB, 250);
      await graph.notificationsSettled();
      const posts = receiver.notifications('/batch');
      expect(posts.length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...posts.map((p) => p.value.length))).toBeLessThanOrEqual(100);
      expect(Math.max(...posts.map((p) => p.value.length))).toBeGreaterThan(1);
      const notified = posts.flatMap((p) => (p.value as Json[]).map((n) => n.resourceData.id as string));
      expect(notified).toEqual(messages.map((m) => m.regularId));
      const deliveries = graph.notificationDeliveries.filter((d) => d.url === receiver.url('/batch'));
      expect(deliveries.reduce((sum, d) => sum + d.itemCount, 0)).toBe(250);
    });

    it('retries a failed delivery, and when it gives up reports the loss with a "missed" lifecycle event', async () => {
      graph.setNotificationRetry({ attempts: 3, delayMs: 50 });
      const seen = receiver.notifications('/notify-a').length;
      receiver.failNext('/notify-a', 2);
      const message = graph.deliver(ANA);
      await graph.notificationsSettled();
      const attempts = graph.notificationDeliveries.filter((d) => d.subscriptionId === subA && d.kind === 'change').slice(-3);
      expect(attempts.map((d) => [d.attempt, d.status])).toEqual([
        [1, 500],
        [2, 500],
        [3, 202],
      ]);
      const received = receiver.notifications('/notify-a').slice(seen);
      expect(received.map((n) => n.value[0].resourceData.id)).toEqual([message.regularId, message.regularId, message.regularId]);

      receiver.failNext('/notify-a', 3);
      const lostOne = graph.deliver(ANA);
      await graph.notificationsSettled();
      expect(graph.lostNotifications).toContainEqual({ subscriptionId: subA, messageId: lostOne.regularId, changeType: 'created', reason: 'delivery-failed' });
      const missed = await waitFor('missed', () => receiver.notifications('/lifecycle-a').find((n) => n.value[0].lifecycleEvent === 'missed'));
      expect(missed.value[0]).toMatchObject({ subscriptionId: subA, clientState: 'state-a', tenantId });
      graph.setNotificationRetry({ attempts: 3, delayMs: 200 });
    });

    it('holds notifications while paused and sends them, in order, on resume', async () => {
      const seen = receiver.notifications('/notify-a').length;
      graph.pauseNotifications();
      const messages = [graph.deliver(ANA), graph.deliver(ANA), graph.deliver(ANA)];
      await sleep(150);
      expect(receiver.notifications('/notify-a')).toHaveLength(seen);
      await graph.resumeNotifications();
      const sent = receiver.notifications('/notify-a').slice(seen).flatMap((n) => (n.value as Json[]).map((v) => v.resourceData.id));
      expect(sent).toEqual(messages.map((m) => m.regularId));
    });

    it('sends lifecycle events; after reauthorizationRequired change notifications stop until /reauthorize', async () => {
      const status = await graph.sendLifecycle(subA, 'reauthorizationRequired');
      expect(status).toBe(202);
      const challenge = receiver.notifications('/lifecycle-a').at(-1);
      expect(challenge).toEqual({
        value: [
          {
            subscriptionId: subA,
            subscriptionExpirationDateTime: graph.subscription(subA)?.expirationDateTime,
            tenantId,
            clientState: 'state-a',
            lifecycleEvent: 'reauthorizationRequired',
          },
        ],
      });
      expect(graph.subscription(subA)?.reauthorizationRequired).toBe(true);
      const seen = receiver.notifications('/notify-a').length;
      const held = graph.deliver(ANA);
      await graph.notificationsSettled();
      expect(receiver.notifications('/notify-a')).toHaveLength(seen);
      expect(graph.lostNotifications).toContainEqual({ subscriptionId: subA, messageId: held.regularId, changeType: 'created', reason: 'reauthorization-required' });

      expect((await api('POST', `/subscriptions/${subA}/reauthorize`, tokens.ana)).status).toBe(204);
      const after = graph.deliver(ANA);
      await graph.notificationsSettled();
      expect(receiver.notifications('/notify-a').at(-1)?.value[0].resourceData.id).toBe(after.regularId);

      expect(await graph.sendLifecycle(subB, 'missed')).toBe(0); // no lifecycleNotificationUrl: nothing sent
      graph.removeSubscription(subA);
      const removed = await waitFor('subscriptionRemoved', () =>
        receiver.notifications('/lifecycle-a').find((n) => n.value[0].lifecycleEvent === 'subscriptionRemoved'),
      );
      expect(removed.value[0].subscriptionId).toBe(subA);
      expect((await api('GET', `/subscriptions/${subA}`, tokens.ana)).status).toBe(404);
    });

    it('sendRaw POSTs any JSON (forged notifications)', async () => {
      const result = await graph.sendRaw(receiver.url('/forged'), { value: [{ subscriptionId: 'nope', clientState: 'guess' }] });
      expect(result.status).toBe(202);
      expect(result.ms).toBeGreaterThanOrEqual(0);
      expect(receiver.notifications('/forged')).toEqual([{ value: [{ subscriptionId: 'nope', clientState: 'guess' }] }]);
    });
  });

  describe('message delta', () => {
    const inbox = `/users/${CAROL}/mailFolders/inbox/messages/delta`;
    let old: FakeGraphMessage[];
    let delivered: FakeGraphMessage[];
    let immutableLink: string;

    it('a $filter baseline, then 25 new messages in pages of 10 with nextLinks and a deltaLink; immutable ids with the Prefer header', async () => {
      old = [1, 2, 3].map((h) => graph.deliver(CAROL, { receivedDateTime: new Date(graphNow - h * 3_600_000).toISOString() }));
      const since = new Date(graphNow).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const baseline = await api('GET', `${inbox}?$filter=receivedDateTime ge ${since}`, tokens.app);
      expect(baseline.status).toBe(200);
      expect(baseline.json.value).toEqual([]);
      expect(baseline.json['@odata.nextLink']).toBeUndefined();
      expect(baseline.json['@odata.context']).toBe(`${graph.baseUrl}/$metadata#Collection(message)`);
      const deltaLink = baseline.json['@odata.deltaLink'] as string;
      expect(deltaLink).toMatch(new RegExp(`^${graph.baseUrl.replace(/\./g, '\\.')}/users/.+/mailFolders\\('AQMk.+'\\)/messages/delta\\?\\$deltatoken=[\\w-]+$`));

      graphNow += 1000;
      delivered = graph.deliverMany(CAROL, 25);
      const prefer = { Prefer: 'odata.maxpagesize=10, IdType="ImmutableId"' };
      const first = await api('GET', deltaLink, tokens.app, { headers: prefer });
      expect(first.headers.get('preference-applied')).toBe('odata.maxpagesize=10, IdType="ImmutableId"');
      expect(first.json['@odata.nextLink']).toMatch(/\?\$skiptoken=[\w-]+$/);
      const round = await deltaRound(deltaLink, tokens.app, prefer);
      expect(round.pages).toEqual([10, 10, 5]);
      expect(round.items.map((m) => m.id)).toEqual(delivered.map((m) => m.immutableId));
      for (const item of round.items) {
        expect(item.id).toMatch(/^AAkA/);
        expect(item['@odata.type']).toBe('#microsoft.graph.message');
        expect(item['@odata.etag']).toMatch(/^W\/"CQAAABYAAAA/);
        expect(item).toMatchObject({ isRead: false, parentFolderId: graph.folderId(CAROL, 'inbox') });
      }
      // Prefer values may also come as separate headers.
      const split = await api('GET', deltaLink, tokens.app, { headers: { Prefer: 'IdType="ImmutableId"', prefer: 'odata.maxpagesize=30' } });
      expect((split.json.value as Json[]).length).toBe(25);
      immutableLink = round.deltaLink;
      const nothing = await api('GET', immutableLink, tokens.app);
      expect(nothing.json.value).toEqual([]);
      expect(nothing.json['@odata.deltaLink']).toMatch(/\$deltatoken=/);
    });

    it('without the Prefer header: regular ids; an update is a change, a delete and a move-out are @removed', async () => {
      const full = await deltaRound(inbox, tokens.app);
      expect(full.pages).toEqual([10, 10, 8]);
      expect(new Set(full.items.map((m) => m.id))).toEqual(new Set([...old, ...delivered].map((m) => m.regularId)));
      expect(full.items.every((m) => /^AAMk/.test(m.id as string))).toBe(true);

      const [changed, deleted, moved] = delivered as [FakeGraphMessage, FakeGraphMessage, FakeGraphMessage];
      graph.updateMessage(CAROL, changed.id, { isRead: true, subject: 'Re-read' });
      graph.deleteMessage(CAROL, deleted.id);
      const afterMove = graph.moveMessage(CAROL, moved.id, 'archive');
      expect(afterMove.immutableId).toBe(moved.immutableId);
      expect(afterMove.regularId).not.toBe(moved.regularId);

      const next = await deltaRound(full.deltaLink, tokens.app);
      expect(next.items).toHaveLength(3);
      const update = next.items.find((m) => m.id === changed.regularId);
      expect(update).toMatchObject({ isRead: true, subject: 'Re-read' });
      expect(update?.['@removed']).toBeUndefined();
      expect(update?.changeKey).not.toBe(changed.changeKey);
      expect(next.items).toContainEqual({ '@odata.type': '#microsoft.graph.message', id: deleted.regularId, '@removed': { reason: 'deleted' } });
      expect(next.items).toContainEqual({ '@odata.type': '#microsoft.graph.message', id: moved.regularId, '@removed': { reason: 'deleted' } });

      const immutableRound = await deltaRound(immutableLink, tokens.app, { Prefer: 'IdType="ImmutableId"' });
      expect(immutableRound.items.map((m) => [m.id, m['@removed'] ? 'removed' : 'present']).sort()).toEqual(
        [
          [changed.immutableId, 'present'],
          [deleted.immutableId, 'removed'],
          [moved.immutableId, 'removed'],
        ].sort(),
      );

      const archive = await deltaRound(`/users/${ids[CAROL]}/mailFolders('archive')/messages/delta`, tokens.app, { Prefer: 'IdType="ImmutableId"' });
      expect(archive.items.map((m) => m.id)).toEqual([moved.immutableId]);
      const archiveRegular = await deltaRound(`/users/${ids[CAROL]}/mailFolders/archive/messages/delta`, tokens.app);
      expect(archiveRegular.items.map((m) => m.id)).toEqual([afterMove.regularId]);

      const quiet = await deltaRound(next.deltaLink, tokens.app);
      expect(quiet.items).toEqual([]);

      const selected = await api('GET', `${inbox}?$select=subject,isRead`, tokens.app, { headers: { Prefer: 'odata.maxpagesize=1' } });
      expect(Object.keys(selected.json.value[0] as Json).sort()).toEqual(['@odata.etag', '@odata.type', 'id', 'isRead', 'subject']);
      const followed = await api('GET', selected.json['@odata.nextLink'] as string, tokens.app, { headers: { Prefer: 'odata.maxpagesize=1' } });
      expect(Object.keys(followed.json.value[0] as Json).sort()).toEqual(['@odata.etag', '@odata.type', 'id', 'isRead', 'subject']);
    });

    it('resetDeltaState: old delta and skip tokens answer 410 SyncStateNotFound; garbage and bad options 400', async () => {
      const round = await deltaRound(inbox, tokens.app);
      const paged = await api('GET', inbox, tokens.app, { headers: { Prefer: 'odata.maxpagesize=5' } });
      const nextLink = paged.json['@odata.nextLink'] as string;
      graph.resetDeltaState(CAROL);
      for (const link of [round.deltaLink, nextLink, immutableLink]) {
        const gone = await api('GET', link, tokens.app);
        expect([gone.status, gone.json.error.code]).toEqual([410, 'SyncStateNotFound']);
        expect(gone.json.error.message).toMatch(/^The sync state generation is not found/);
      }
      const again = await deltaRound(inbox, tokens.app);
      expect(again.items.length).toBe(round.items.length);

      const garbage = await api('GET', `${inbox}?$deltatoken=garbage`, tokens.app);
      expect([garbage.status, garbage.json.error.code]).toEqual([400, 'ErrorInvalidSyncStateData']);
      const otherFolder = again.deltaLink.replace(/mailFolders\('[^']+'\)/, 'mailFolders(\'archive\')');
      expect((await api('GET', otherFolder, tokens.app)).status).toBe(400);
      const filter = await api('GET', `${inbox}?$filter=subject eq 'x'`, tokens.app);
      expect([filter.status, filter.json.error.code]).toEqual([400, 'ErrorInvalidUrlQueryFilter']);
      const select = await api('GET', `${inbox}?$select=subject,nonsense`, tokens.app);
      expect([select.status, select.json.error.code]).toEqual([400, 'RequestBroker--ParseUri']);
      const folder = await api('GET', `/users/${CAROL}/mailFolders/AQMkADnope/messages/delta`, tokens.app);
      expect([folder.status, folder.json.error.code]).toEqual([404, 'ErrorItemNotFound']);
    });

    it('reads single messages by either id kind; a regular id from before a move is gone', async () => {
      const [message] = graph.messages(CAROL);
      const byRegular = await api('GET', `/users/${CAROL}/messages/${message?.regularId}`, tokens.app);
      expect([byRegular.status, byRegular.json.id, byRegular.json.subject]).toEqual([200, message?.regularId, message?.subject]);
      const byImmutable = await api('GET', `/users/${CAROL}/messages/${message?.immutableId}?$select=subject`, tokens.app, {
        headers: { Prefer: 'IdType="ImmutableId"' },
      });
      expect(byImmutable.json.id).toBe(message?.immutableId);
      const moved = graph.moveMessage(CAROL, message?.id as string, 'archive');
      const stale = await api('GET', `/users/${CAROL}/messages/${message?.regularId}`, tokens.app);
      expect([stale.status, stale.json.error.code]).toEqual([404, 'ErrorItemNotFound']);
      expect((await api('GET', `/users/${CAROL}/messages/${moved.regularId}`, tokens.app)).status).toBe(200);
      const listed = await api('GET', `/users/${CAROL}/mailFolders/archive/messages?$top=1`, tokens.app);
      expect((listed.json.value as Json[]).length).toBe(1);
      expect(listed.json['@odata.nextLink']).toMatch(/\$skip=1$/);
    });
  });

  describe('JSON $batch', () => {
    it('runs each request relative to the version root and answers responses[] with id, status, headers and body', async () => {
      const sub = await created(tokens.ana);
      graph.throttleNext(1, { retryAfterSeconds: 4, email: BOB });
      const batch = await api('POST', '/$batch', tokens.app, {
        body: {
          requests: [
            { id: '1', method: 'PATCH', url: `/subscriptions/${sub.id}`, body: { expirationDateTime: inMinutes(90) }, headers: { 'Content-Type': 'application/json' } },
            { id: '2', method: 'GET', url: `users/${BOB}/mailFolders/inbox?$select=id` },
            { id: '3', method: 'PATCH', url: '/subscriptions/00000000-0000-4000-8000-000000000000', body: { expirationDateTime: inMinutes(90) }, headers: { 'Content-Type': 'application/json' } },
            { id: '4', method: 'GET', url: `/users/${ANA}/mailFolders/inbox?$select=id` },
          ],
        },
      });
      expect(batch.status).toBe(200);
      const byId = Object.fromEntries((batch.json.responses as Json[]).map((r) => [r.id, r]));
      // The subscription is Ana's web app's: another app (the daemon) may not renew it.
      expect(byId['1']).toMatchObject({ status: 403 });
      expect(byId['2']).toMatchObject({ status: 429, headers: { 'Retry-After': '4' }, body: { error: { code: 'TooManyRequests' } } });
      expect(byId['3']).toMatchObject({ status: 404, body: { error: { code: 'ResourceNotFound' } } });
      expect(byId['4']).toMatchObject({ status: 200, body: { id: graph.folderId(ANA, 'inbox') } });

      const expires = inMinutes(90);
      const own = await api('POST', '/$batch', tokens.ana, {
        body: { requests: [{ id: 'a', method: 'PATCH', url: `/subscriptions/${sub.id}`, body: { expirationDateTime: expires }, headers: { 'Content-Type': 'application/json' } }] },
      });
      expect(own.json.responses).toEqual([expect.objectContaining({ id: 'a', status: 200, body: expect.objectContaining({ id: sub.id }) })]);
      expect(Date.parse(own.json.responses[0].body.expirationDateTime)).toBe(Date.parse(expires));
    });

    it('more than 20 requests, duplicate ids, absolute URLs or a body without Content-Type are 400', async () => {
      const get = (id: string, url = '/subscriptions') => ({ id, method: 'GET', url });
      const tooMany = await api('POST', '/$batch', tokens.app, { body: { requests: Array.from({ length: 21 }, (_, i) => get(String(i))) } });
      expect([tooMany.status, tooMany.json.error.code]).toEqual([400, 'InvalidRequest']);
      expect((await api('POST', '/$batch', tokens.app, { body: { requests: [get('1'), get('1')] } })).status).toBe(400);
      expect((await api('POST', '/$batch', tokens.app, { body: { requests: [get('1', `${graph.baseUrl}/subscriptions`)] } })).status).toBe(400);
      expect((await api('POST', '/$batch', tokens.app, { body: { requests: [{ id: '1', method: 'PATCH', url: '/subscriptions/x', body: {} }] } })).status).toBe(400);
      expect((await api('POST', '/$batch', undefined, { body: { requests: [get('1')] } })).status).toBe(401);
    });
  });

  describe('throttling', () => {
    it('throttleNext answers 429 TooManyRequests / 503 with Retry-After, only for the named mailbox', async () => {
      const path = (user: string) => `/users/${user}/mailFolders/inbox`;
      graph.throttleNext(2, { retryAfterSeconds: 7, email: DAVE });
      const first = await api('GET', path(DAVE), tokens.app);
      expect([first.status, first.json.error.code, first.headers.get('retry-after')]).toEqual([429, 'TooManyRequests', '7']);
      expect((await api('GET', path(BOB), tokens.app)).status).toBe(200);
      expect((await api('GET', path(DAVE), tokens.app)).status).toBe(429);
      expect((await api('GET', path(DAVE), tokens.app)).status).toBe(200);
      const daveRequests = graph.requests.filter((r) => r.email === DAVE).slice(-3);
      expect(daveRequests.map((r) => r.status)).toEqual([429, 429, 200]);
      expect(daveRequests.every((r) => r.appId === DAEMON && r.endedAt >= r.startedAt)).toBe(true);

      graph.throttleNext(1, { status: 503, retryAfterSeconds: 2 });
      const unavailable = await api('GET', `/subscriptions`, tokens.app);
      expect([unavailable.status, unavailable.json.error.code, unavailable.headers.get('retry-after')]).toEqual([503, 'ServiceUnavailable', '2']);
    });

    it('more than 4 concurrent requests per mailbox and app: 429 ApplicationThrottled (MailboxConcurrency)', async () => {
      graph.setResponseDelay(300);
      try {
        const responses = await Promise.all(Array.from({ length: 6 }, () => api('GET', `/users/${DAVE}/mailFolders/inbox`, tokens.app)));
        const statuses = responses.map((r) => r.status).sort();
        expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
        const rejected = responses.find((r) => r.status === 429);
        expect(rejected?.json.error).toMatchObject({ code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.' });
        expect(rejected?.headers.get('retry-after')).toBe('1');
        // The 4 admitted plus the rejected one (answered at once, so the sixth may not overlap it).
        expect(graph.maxConcurrentRequests(DAVE)).toBeGreaterThanOrEqual(5);
        const slow = graph.requests.filter((r) => r.email === DAVE && r.status === 200).slice(-4);
        expect(slow.every((r) => r.endedAt - r.startedAt >= 290)).toBe(true);
        // Another app on the same mailbox has its own 4.
        const delegatedDave = await delegated(DAVE);
        const mixed = await Promise.all([
          ...Array.from({ length: 4 }, () => api('GET', `/users/${DAVE}/mailFolders/inbox`, tokens.app)),
          api('GET', '/me/mailFolders/inbox', delegatedDave),
        ]);
        expect(mixed.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      } finally {
        graph.setResponseDelay(0);
      }
    });
  });

  it('answers unknown routes and versions with Graph-shaped errors', async () => {
    const unknown = await api('GET', '/contacts', tokens.ana);
    expect([unknown.status, unknown.json.error.code, unknown.json.error.message]).toEqual([400, 'BadRequest', "Resource not found for the segment 'contacts'."]);
    const version = await api('GET', `${graph.baseUrl.replace('/v1.0', '/v2.0')}/me`, tokens.ana);
    expect([version.status, version.json.error.code]).toEqual([400, 'BadRequest']);
    const method = await api('DELETE', '/me/mailFolders/inbox', tokens.ana);
    expect(method.status).toBe(405);
    const message = await api('GET', '/me/messages/AAkALgnothing', tokens.ana);
    expect([message.status, message.json.error.code]).toEqual([404, 'ErrorItemNotFound']);
    expect(message.json.error.innerError['request-id']).toBe(message.headers.get('request-id'));
  });
});
