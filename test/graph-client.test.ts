/**
 * The Graph mailbox client against the fake Microsoft Graph and fake Entra ID over real HTTP on
 * loopback: folders, subscriptions (with a real validationToken receiver), message delta rounds,
 * throttling, token refresh after 401, the per-mailbox concurrency limit, delegated and app-only tokens.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { GraphApiError, GraphMailboxClient, receivedMessageOfGraph, type GraphMailboxClientOptions, type GraphMessage } from '../libs/graph/src/client';
import { FakeEntraId } from '../libs/testing/src/fake-entra';
import { FakeGraph } from '../libs/testing/src/fake-graph';
import { generateLoopbackCertificate } from '../libs/testing/src/fake-entra/tls';

const WEB_APP = '44444444-aaaa-4bbb-8ccc-000000000001';
const DAEMON = '44444444-aaaa-4bbb-8ccc-000000000002';
const DAEMON_SECRET = 'daemon~secret-value';
const MAIL_READ = 'offline_access https://graph.microsoft.com/Mail.Read';
const ANA = 'ana@contoso.com';
const BOB = 'bob@contoso.com';
const CAROL = 'carol@contoso.com';
const DAVE = 'dave@contoso.com';
const ERIN = 'erin@contoso.com';

/** The awaited rejection of `work` as a GraphApiError (fails the test when it resolves or throws something else). */
async function graphError(work: Promise<unknown>): Promise<GraphApiError> {
  try {
    await work;
  } catch (error) {
    expect(error).toBeInstanceOf(GraphApiError);
    return error as GraphApiError;
  }
  throw new Error('expected a GraphApiError, the call succeeded');
}

/** Our notification endpoint: echoes the decoded validationToken as text/plain, 202 for notifications. */
class Receiver {
  readonly validations: string[] = [];
  readonly notifications: Array<{ path: string; body: Record<string, any> }> = []; // eslint-disable-line @typescript-eslint/no-explicit-any

  private constructor(
    private readonly server: Server,
    readonly base: string,
  ) {}

  static async start(): Promise<Receiver> {
    let receiver: Receiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const token = url.searchParams.get('validationToken'); // URLSearchParams turns '+' into ' ', as Graph's encoding needs
        if (token !== null) {
          receiver?.validations.push(url.pathname);
          res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
          res.end(token);
          return;
        }
        const text = Buffer.concat(chunks).toString('utf8');
        receiver?.notifications.push({ path: url.pathname, body: text ? JSON.parse(text) : {} });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver = new Receiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return receiver;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('GraphMailboxClient against the fake Graph', () => {
  let entra: FakeEntraId;
  let graph: FakeGraph;
  let receiver: Receiver;
  let tenantId: string;

  async function tokenRequest(tenant: string, form: Record<string, string>): Promise<string> {
    const response = await fetch(`${entra.plainHttpBaseUrl}/${tenant}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    const body = (await response.json()) as { access_token?: string };
    if (!body.access_token) throw new Error(`no token: ${JSON.stringify(body)}`);
    return body.access_token;
  }

  function delegated(username: string): Promise<string> {
    const refreshToken = entra.mintRefreshToken(WEB_APP, username, MAIL_READ);
    return tokenRequest('organizations', { grant_type: 'refresh_token', client_id: WEB_APP, refresh_token: refreshToken });
  }

  function appOnly(): Promise<string> {
    return tokenRequest(tenantId, { grant_type: 'client_credentials', client_id: DAEMON, client_secret: DAEMON_SECRET, scope: 'https://graph.microsoft.com/.default' });
  }

  /** A caching token source like the runtime's: a new token only when none is cached or a refresh is forced. */
  function tokenSource(fetchToken: () => Promise<string>) {
    const asked: boolean[] = [];
    let cached: string | undefined;
    return {
      asked,
      accessToken: async ({ forceRefresh }: { forceRefresh: boolean }) => {
        asked.push(forceRefresh);
        if (!cached || forceRefresh) cached = await fetchToken();
        return cached;
      },
    };
  }

  function client(user: string, options: Partial<GraphMailboxClientOptions> = {}): GraphMailboxClient {
    return new GraphMailboxClient({ baseUrl: graph.baseUrl, user, accessToken: tokenSource(() => delegated(user)).accessToken, ...options });
  }

  beforeAll(async () => {
    entra = await FakeEntraId.start();
    graph = await FakeGraph.start({ entra });
    receiver = await Receiver.start();
    entra.registerApp({ clientId: WEB_APP, displayName: 'CRM Mail Listener' });
    entra.registerApp({ clientId: DAEMON, clientSecret: DAEMON_SECRET, appRoles: ['Mail.Read'] });
    for (const user of [ANA, BOB, CAROL, DAVE, ERIN]) {
      entra.addUser({ username: user });
      graph.addUser(user);
    }
    tenantId = entra.tenantIdFor('contoso.com');
  });

  afterAll(async () => {
    await graph?.stop();
    await entra?.stop();
    await receiver?.close();
  });

  describe('resolveFolder', () => {
    it('INBOX in any case and well-known names resolve to that folder in one request', async () => {
      const ana = client(ANA);
      const inboxId = graph.folderId(ANA, 'inbox');
      for (const name of ['INBOX', 'inbox', 'Inbox']) {
        expect(await ana.resolveFolder(name)).toEqual({ id: inboxId, displayName: 'Inbox', wellKnownName: 'inbox' });
      }
      expect(await ana.resolveFolder('archive')).toEqual({ id: graph.folderId(ANA, 'archive'), displayName: 'Archive', wellKnownName: 'archive' });
      expect(await ana.resolveFolder('SentItems')).toEqual({ id: graph.folderId(ANA, 'sentitems'), displayName: 'Sent Items', wellKnownName: 'sentitems' });
      const last = graph.requests.filter((r) => r.email === ANA).at(-1);
      expect(last?.path).toBe(`/v1.0/users/${encodeURIComponent(ANA)}/mailFolders/sentitems`);
      expect(last?.query).toEqual({ $select: 'id,displayName' });
    });

    it('a display name is looked up with an OData $filter (quotes doubled), matched by name; a missing one is not_found', async () => {
      const ana = client(ANA);
      const projects = graph.addFolder(ANA, 'Projects');
      const quoted = graph.addFolder(ANA, "O'Brien & Co");
      graph.addFolder(ANA, '2026', projects.id);
      expect(await ana.resolveFolder('Projects')).toEqual({ id: projects.id, displayName: 'Projects', wellKnownName: null });
      expect(await ana.resolveFolder('/Projects/')).toEqual({ id: projects.id, displayName: 'Projects', wellKnownName: null });
      expect(await ana.resolveFolder("O'Brien & Co")).toEqual({ id: quoted.id, displayName: "O'Brien & Co", wellKnownName: null });
      const lookup = graph.requests.filter((r) => r.email === ANA).at(-1);
      expect(lookup?.path).toBe(`/v1.0/users/${encodeURIComponent(ANA)}/mailFolders`);
      expect(lookup?.query.$filter).toBe("displayName eq 'O''Brien & Co'");

      const missing = await graphError(ana.resolveFolder('Nope'));
      expect(missing).toMatchObject({ kind: 'not_found', code: 'FolderNotFound' });
      expect(missing.message).toBe(`Folder "Nope" does not exist in mailbox ${ANA}: no top-level folder named "Nope"`);
      // Nested paths ("Projects/2026") use …/childFolders, which the fake Graph does not serve: see graph-client.spec.ts.
    });

    it('a user the token may not read is forbidden; an unknown user is not_found', async () => {
      const bobsTokenOnAna = new GraphMailboxClient({ baseUrl: graph.baseUrl, user: ANA, accessToken: tokenSource(() => delegated(BOB)).accessToken });
      const forbidden = await graphError(bobsTokenOnAna.resolveFolder('inbox'));
      expect(forbidden).toMatchObject({ kind: 'forbidden', status: 403, code: 'ErrorAccessDenied' });
      expect(forbidden.requestId).toMatch(/^[0-9a-f-]{36}$/);

      const app = tokenSource(appOnly);
      const unknown = await graphError(new GraphMailboxClient({ baseUrl: graph.baseUrl, user: 'zoe@contoso.com', accessToken: app.accessToken }).resolveFolder('inbox'));
      expect(unknown).toMatchObject({ kind: 'not_found', status: 404, code: 'ErrorInvalidUser' });
    });
  });

  describe('subscriptions', () => {
    const inMinutes = (minutes: number) => new Date(Math.floor(Date.now() / 1000) * 1000 + minutes * 60_000);

    it('create (after our endpoints answered the handshake), renew, reauthorize, delete', async () => {
      const ana = client(ANA);
      const inbox = await ana.resolveFolder('INBOX');
      const expires = inMinutes(60);
      const sub = await ana.createSubscription({
        folderId: inbox.id,
        notificationUrl: `${receiver.base}/notify`,
        lifecycleNotificationUrl: `${receiver.base}/lifecycle`,
        expirationDateTime: expires,
        clientState: 'client-state-secret',
      });
      expect(sub).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        resource: `users/${ANA}/mailFolders('${inbox.id}')/messages`,
        expirationDateTime: expires,
        clientState: 'client-state-secret',
        notificationUrl: `${receiver.base}/notify`,
        lifecycleNotificationUrl: `${receiver.base}/lifecycle`,
      });
      expect(receiver.validations).toEqual(['/notify', '/lifecycle']);
      expect(graph.subscription(sub.id)).toMatchObject({ changeTypes: ['created'], folderId: inbox.id, immutableIds: true, email: ANA, latestSupportedTlsVersion: 'v1_2' });

      // Created with the ImmutableId preference: the notification carries the id delta will report.
      const message = graph.deliver(ANA, { subject: 'hello' });
      await graph.notificationsSettled();
      const notified = receiver.notifications.find((n) => n.path === '/notify' && n.body.value?.[0]?.subscriptionId === sub.id);
      expect(notified?.body.value[0]).toMatchObject({ changeType: 'created', clientState: 'client-state-secret', resourceData: { id: message.immutableId } });

      const later = inMinutes(120);
      const renewed = await ana.renewSubscription(sub.id, later);
      expect(renewed.id).toBe(sub.id);
      expect(renewed.expirationDateTime).toEqual(later);
      expect(graph.subscription(sub.id)?.expiresAt).toBe(later.getTime());

      expect(await graph.sendLifecycle(sub.id, 'reauthorizationRequired')).toBe(202);
      expect(graph.subscription(sub.id)?.reauthorizationRequired).toBe(true);
      await ana.reauthorizeSubscription(sub.id);
      expect(graph.subscription(sub.id)?.reauthorizationRequired).toBe(false);

      await ana.deleteSubscription(sub.id);
      expect(graph.subscription(sub.id)).toBeUndefined();
      await expect(ana.deleteSubscription(sub.id)).resolves.toBeUndefined();
      await expect(ana.deleteSubscription('00000000-0000-4000-8000-000000000000')).resolves.toBeUndefined();
      const deletes = graph.requests.filter((r) => r.method === 'DELETE').map((r) => r.status);
      expect(deletes).toEqual([204, 404, 404]);
    });

    it('renewing a subscription Graph removed is not_found; a bad request is invalid_request', async () => {
      const ana = client(ANA);
      const inbox = await ana.resolveFolder('inbox');
      const sub = await ana.createSubscription({ folderId: inbox.id, notificationUrl: `${receiver.base}/notify`, lifecycleNotificationUrl: null, expirationDateTime: inMinutes(30), clientState: 'x' });
      expect(sub.lifecycleNotificationUrl).toBeNull();
      graph.removeSubscription(sub.id, false);
      const gone = await graphError(ana.renewSubscription(sub.id, inMinutes(60)));
      expect(gone).toMatchObject({ kind: 'not_found', status: 404, code: 'ResourceNotFound' });
      expect(gone.message).toBe(`Graph PATCH /v1.0/subscriptions/${sub.id} answered 404 ResourceNotFound: The object was not found.`);

      const tooFar = await graphError(
        ana.createSubscription({ folderId: inbox.id, notificationUrl: `${receiver.base}/notify`, lifecycleNotificationUrl: null, expirationDateTime: inMinutes(20_000), clientState: 'x' }),
      );
      expect(tooFar).toMatchObject({ kind: 'invalid_request', status: 400, code: 'InvalidRequest' });
      expect(tooFar.message).toMatch(/Subscription expiration can only be 10070 minutes in the future/);
    });
  });

  describe('subscription renewals in one $batch', () => {
    const inMinutes = (minutes: number) => new Date(Math.floor(Date.now() / 1000) * 1000 + minutes * 60_000);

    /** ERIN's subscriptions on `count` folders (inbox plus new ones). */
    async function erinSubscriptions(erin: GraphMailboxClient, count: number, tag: string) {
      const folders = [await erin.resolveFolder('inbox')];
      for (let i = 1; i < count; i += 1) folders.push(await erin.resolveFolder(graph.addFolder(ERIN, `${tag} ${i}`) && `${tag} ${i}`));
      const subs = [];
      for (const folder of folders) {
        subs.push(await erin.createSubscription({ folderId: folder.id, notificationUrl: `${receiver.base}/notify`, lifecycleNotificationUrl: null, expirationDateTime: inMinutes(30), clientState: 'x' }));
      }
      return subs;
    }

    it('several renewals at once are one $batch of PATCHes; an item Graph answers 404 is not_found for that renewal only', async () => {
      const erin = client(ERIN);
      const subs = await erinSubscriptions(erin, 3, 'Batch');
      const before = graph.requests.length;
      const later = inMinutes(120);
      const renewed = await Promise.all(subs.map((sub) => erin.renewSubscription(sub.id, later)));
      expect(renewed.map((r) => [r.id, r.expirationDateTime])).toEqual(subs.map((sub) => [sub.id, later]));
      for (const sub of subs) expect(graph.subscription(sub.id)?.expiresAt).toBe(later.getTime());
      const sent = graph.requests.slice(before);
      // One request of ours (the $batch); the fake runs each item as a request of its own.
      expect(sent.filter((r) => r.path === '/v1.0/$batch').map((r) => [r.method, r.status])).toEqual([['POST', 200]]);
      expect(sent.filter((r) => r.path.startsWith('/v1.0/subscriptions/')).map((r) => r.method)).toEqual(['PATCH', 'PATCH', 'PATCH']);

      const [kept, gone, alsoKept] = subs as [(typeof subs)[0], (typeof subs)[0], (typeof subs)[0]];
      graph.removeSubscription(gone.id, false);
      const again = inMinutes(180);
      const outcomes = await Promise.allSettled(subs.map((sub) => erin.renewSubscription(sub.id, again)));
      expect(outcomes[0]).toMatchObject({ status: 'fulfilled', value: { id: kept.id, expirationDateTime: again } });
      expect(outcomes[2]).toMatchObject({ status: 'fulfilled', value: { id: alsoKept.id, expirationDateTime: again } });
      expect(outcomes[1]?.status).toBe('rejected');
      const error = (outcomes[1] as PromiseRejectedResult).reason as GraphApiError;
      expect(error).toBeInstanceOf(GraphApiError);
      // Exactly what a single PATCH of it throws.
      expect(error).toMatchObject({ kind: 'not_found', status: 404, code: 'ResourceNotFound' });
      expect(error.message).toBe(`Graph PATCH /v1.0/subscriptions/${gone.id} answered 404 ResourceNotFound: The object was not found.`);
      expect(graph.requests.slice(before).filter((r) => r.path === '/v1.0/$batch')).toHaveLength(2);
      for (const sub of subs) if (sub !== gone) await erin.deleteSubscription(sub.id);
    });

    it('an item answered 429 waits its Retry-After (counted by onThrottled) and goes again in the next batch', async () => {
      const sleeps: number[] = [];
      const throttled: Array<[number, number]> = [];
      const erin = client(ERIN, { sleep: async (ms) => void sleeps.push(ms), onThrottled: (ms, status) => throttled.push([ms, status]) });
      const subs = await erinSubscriptions(erin, 2, 'Throttled');
      const before = graph.requests.length;
      graph.throttleNext(1, { retryAfterSeconds: 3, email: ERIN });
      const later = inMinutes(90);
      const renewed = await Promise.all(subs.map((sub) => erin.renewSubscription(sub.id, later)));
      expect(renewed.map((r) => r.expirationDateTime)).toEqual([later, later]);
      expect(sleeps).toEqual([3000]);
      expect(throttled).toEqual([[3000, 429]]);
      const sent = graph.requests.slice(before);
      expect(sent.filter((r) => r.path === '/v1.0/$batch')).toHaveLength(2);
      expect(sent.filter((r) => r.path.startsWith('/v1.0/subscriptions/')).map((r) => r.status).sort()).toEqual([200, 200, 429]);
      for (const sub of subs) await erin.deleteSubscription(sub.id);
    });

    it('a renewal alone is a plain PATCH; more than 20 at once are several batches of at most 20', async () => {
      const erin = client(ERIN);
      const [sub] = await erinSubscriptions(erin, 1, 'Alone');
      let before = graph.requests.length;
      await erin.renewSubscription(sub!.id, inMinutes(60));
      expect(graph.requests.slice(before).map((r) => [r.method, r.path])).toEqual([['PATCH', `/v1.0/subscriptions/${sub!.id}`]]);
      before = graph.requests.length;
      const outcomes = await Promise.allSettled(Array.from({ length: 23 }, () => erin.renewSubscription(sub!.id, inMinutes(61))));
      expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true);
      const sent = graph.requests.slice(before);
      expect(sent.filter((r) => r.path === '/v1.0/$batch')).toHaveLength(2);
      expect(sent.filter((r) => r.method === 'PATCH')).toHaveLength(23);
      await erin.deleteSubscription(sub!.id);
    });
  });

  describe('delta', () => {
    it('baseline now → a link and nothing replayed; 250 new → 3 pages of ≤100 with immutable ids, each once; updates are not new; empty rounds', async () => {
      const carol = client(CAROL);
      const inbox = await carol.resolveFolder('INBOX');
      // Received before the baseline's second (the bound is rounded down to whole seconds, as Exchange stores them).
      const old = [1, 2, 3].map(() => graph.deliver(CAROL, { receivedDateTime: new Date(Date.now() - 2_000).toISOString() }));
      const pagesSeen: GraphMessage[][] = [];
      const onPage = async (messages: GraphMessage[]) => {
        pagesSeen.push(messages);
      };

      const baseline = await carol.delta(inbox.id, { receivedSince: new Date() }, onPage);
      expect(baseline).toEqual({ deltaLink: expect.stringMatching(/\$deltatoken=[\w-]+$/), pages: 1, messages: 0 });
      expect(pagesSeen).toEqual([[]]);
      const initial = graph.requests.filter((r) => r.email === CAROL && r.path.endsWith('/messages/delta')).at(-1);
      expect(initial?.path).toBe(`/v1.0/users/${encodeURIComponent(CAROL)}/mailFolders/${encodeURIComponent(inbox.id)}/messages/delta`);
      expect(initial?.query).toEqual({
        changeType: 'created',
        $select: 'internetMessageId,subject,from,toRecipients,ccRecipients,receivedDateTime,parentFolderId',
        // Whole seconds: Exchange stores receivedDateTime to the second.
        $filter: expect.stringMatching(/^receivedDateTime ge \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/),
      });

      const special = graph.deliver(CAROL, {
        subject: 'Quarterly figures',
        from: { emailAddress: { name: 'Bob Builder', address: 'bob@fabrikam.com' } },
        toRecipients: [CAROL, { emailAddress: { name: 'Team', address: 'team@contoso.com' } }],
        internetMessageId: '<figures-2026@fabrikam.com>',
        receivedDateTime: new Date(Date.now() + 60_000).toISOString(),
      });
      const rest = graph.deliverMany(CAROL, 249);
      const delivered = [special, ...rest];
      pagesSeen.length = 0;
      const round = await carol.delta(inbox.id, { deltaLink: baseline.deltaLink }, onPage);
      expect(round).toEqual({ deltaLink: expect.stringMatching(/\$deltatoken=/), pages: 3, messages: 250 });
      expect(pagesSeen.map((page) => page.length)).toEqual([100, 100, 50]);
      const ids = pagesSeen.flat().map((m) => m.id);
      expect(new Set(ids).size).toBe(250);
      expect(new Set(ids)).toEqual(new Set(delivered.map((m) => m.immutableId)));
      expect(ids.every((id) => /^AAkA/.test(id))).toBe(true);
      expect(ids.some((id) => old.some((m) => m.immutableId === id))).toBe(false);

      const mapped = pagesSeen.flat().find((m) => m.id === special.immutableId);
      expect(mapped).toEqual({
        id: special.immutableId,
        internetMessageId: '<figures-2026@fabrikam.com>',
        subject: 'Quarterly figures',
        from: { name: 'Bob Builder', address: 'bob@fabrikam.com' },
        to: [
          { name: 'Carol', address: CAROL },
          { name: 'Team', address: 'team@contoso.com' },
        ],
        cc: [],
        receivedDateTime: special.receivedDateTime,
        parentFolderId: inbox.id,
      });
      expect(receivedMessageOfGraph(mapped as GraphMessage, 'INBOX')).toEqual({
        folder: 'INBOX',
        uid: null,
        uidValidity: null,
        providerMessageId: special.immutableId,
        internetMessageId: '<figures-2026@fabrikam.com>',
        subject: 'Quarterly figures',
        from: { name: 'Bob Builder', address: 'bob@fabrikam.com' },
        to: [
          { name: 'Carol', address: CAROL },
          { name: 'Team', address: 'team@contoso.com' },
        ],
        cc: [],
        receivedAt: new Date(special.receivedDateTime).toISOString(),
        size: null,
      });

      // changeType=created: an update of a known message is not new mail, a new one is.
      graph.updateMessage(CAROL, special.id, { isRead: true, subject: 'Quarterly figures (read)' });
      pagesSeen.length = 0;
      const afterUpdate = await carol.delta(inbox.id, { deltaLink: round.deltaLink }, onPage);
      expect(afterUpdate).toMatchObject({ pages: 1, messages: 0 });
      const fresh = graph.deliver(CAROL, { subject: 'one more' });
      graph.updateMessage(CAROL, rest[0]?.id as string, { isRead: true });
      const mixed = await carol.delta(inbox.id, { deltaLink: afterUpdate.deltaLink }, onPage);
      expect(mixed).toMatchObject({ pages: 1, messages: 1 });
      expect(pagesSeen.flat().map((m) => [m.id, m.subject])).toEqual([[fresh.immutableId, 'one more']]);
      const quiet = await carol.delta(inbox.id, { deltaLink: mixed.deltaLink }, onPage);
      expect(quiet).toEqual({ deltaLink: expect.stringMatching(/\$deltatoken=/), pages: 1, messages: 0 });

      // Prefer: odata.maxpagesize comes from the client's pageSize on every page.
      const small = client(CAROL, { pageSize: 7 });
      graph.deliverMany(CAROL, 20);
      pagesSeen.length = 0;
      const sevens = await small.delta(inbox.id, { deltaLink: quiet.deltaLink }, onPage);
      expect(pagesSeen.map((page) => page.length)).toEqual([7, 7, 6]);
      expect(sevens.pages).toBe(3);
    });

    it('a reset sync state (410), a corrupt link (400) and a link to another host are sync_reset; a fresh baseline works again', async () => {
      const dave = client(DAVE);
      const inbox = await dave.resolveFolder('inbox');
      const none = async () => undefined;
      const baseline = await dave.delta(inbox.id, { receivedSince: new Date() }, none);
      graph.resetDeltaState(DAVE);
      const reset = await graphError(dave.delta(inbox.id, { deltaLink: baseline.deltaLink }, none));
      expect(reset).toMatchObject({ kind: 'sync_reset', status: 410, code: 'SyncStateNotFound' });
      expect(reset.message).not.toContain('deltatoken');

      const corrupt = baseline.deltaLink.replace(/\$deltatoken=[\w-]+$/, '$deltatoken=garbage');
      expect(await graphError(dave.delta(inbox.id, { deltaLink: corrupt }, none))).toMatchObject({ kind: 'sync_reset', status: 400, code: 'ErrorInvalidSyncStateData' });
      const foreign = baseline.deltaLink.replace(/^http:\/\/127\.0\.0\.1:\d+/, 'http://127.0.0.2:9');
      expect(await graphError(dave.delta(inbox.id, { deltaLink: foreign }, none))).toMatchObject({ kind: 'sync_reset', code: 'ForeignDeltaLink' });

      graph.deliver(DAVE, { subject: 'before the new baseline' });
      const all = await dave.delta(inbox.id, { receivedSince: null }, none);
      expect(all.messages).toBe(1);
      graph.deliver(DAVE, { subject: 'after' });
      expect((await dave.delta(inbox.id, { deltaLink: all.deltaLink }, none)).messages).toBe(1);
    });

    it('a failing onPage stops the round before the next page is fetched', async () => {
      const erin = client(ERIN, { pageSize: 2 });
      const inbox = await erin.resolveFolder('inbox');
      const baseline = await erin.delta(inbox.id, { receivedSince: null }, async () => undefined);
      graph.deliverMany(ERIN, 5);
      const before = graph.requests.length;
      let calls = 0;
      await expect(
        erin.delta(inbox.id, { deltaLink: baseline.deltaLink }, async () => {
          calls += 1;
          throw new Error('queue down');
        }),
      ).rejects.toThrow('queue down');
      expect(calls).toBe(1);
      expect(graph.requests.length - before).toBe(1);
    });
  });

  describe('throttling, tokens, concurrency', () => {
    it('429 with Retry-After: waits what Graph asked (injected sleep) and succeeds', async () => {
      const sleeps: number[] = [];
      const throttled: Array<[number, number]> = [];
      const ana = client(ANA, { sleep: async (ms) => void sleeps.push(ms), onThrottled: (ms, status) => throttled.push([ms, status]) });
      graph.throttleNext(2, { retryAfterSeconds: 1, email: ANA });
      expect((await ana.resolveFolder('inbox')).id).toBe(graph.folderId(ANA, 'inbox'));
      expect(sleeps).toEqual([1000, 1000]);
      expect(throttled).toEqual([
        [1000, 429],
        [1000, 429],
      ]);
      expect(
        graph.requests
          .filter((r) => r.email === ANA)
          .slice(-3)
          .map((r) => r.status),
      ).toEqual([429, 429, 200]);
    });

    it('429 with Retry-After: really waits (≥ 1 s between the 429 and the retry)', async () => {
      const ana = client(ANA);
      await ana.resolveFolder('inbox'); // token fetched, connection warm
      graph.throttleNext(1, { retryAfterSeconds: 1, email: ANA });
      await ana.resolveFolder('inbox');
      const [rejected, retried] = graph.requests.filter((r) => r.email === ANA).slice(-2);
      expect([rejected?.status, retried?.status]).toEqual([429, 200]);
      expect((retried?.startedAt ?? 0) - (rejected?.endedAt ?? 0)).toBeGreaterThanOrEqual(950);
    });

    it('after the retries: 429 is throttled, 503 is server (with retryAfterMs); maxRetryAfterMs caps a wait', async () => {
      const sleeps: number[] = [];
      const ana = client(ANA, { maxRetries: 2, maxRetryAfterMs: 5_000, sleep: async (ms) => void sleeps.push(ms) });
      graph.throttleNext(3, { retryAfterSeconds: 30, email: ANA });
      const throttled = await graphError(ana.resolveFolder('inbox'));
      expect(throttled).toMatchObject({ kind: 'throttled', status: 429, code: 'TooManyRequests', retryAfterMs: 30_000 });
      expect(sleeps).toEqual([5_000, 5_000]);
      graph.throttleNext(3, { status: 503, retryAfterSeconds: 2, email: ANA });
      const unavailable = await graphError(ana.resolveFolder('inbox'));
      expect(unavailable).toMatchObject({ kind: 'server', status: 503, code: 'ServiceUnavailable', retryAfterMs: 2_000 });
      expect((await ana.resolveFolder('inbox')).wellKnownName).toBe('inbox');
    });

    it('401: asks for a token once more with forceRefresh and retries; a token that stays bad is kind auth, without the token in the error', async () => {
      const source = tokenSource(() => delegated(BOB));
      const bob = new GraphMailboxClient({ baseUrl: graph.baseUrl, user: BOB, accessToken: source.accessToken });
      await bob.resolveFolder('inbox');
      expect(source.asked).toEqual([false]);
      entra.invalidateAccessTokens(BOB);
      expect((await bob.resolveFolder('inbox')).wellKnownName).toBe('inbox');
      expect(source.asked).toEqual([false, false, true]);
      const statuses = graph.requests.filter((r) => r.path.includes(encodeURIComponent(BOB))).map((r) => r.status);
      expect(statuses.slice(-2)).toEqual([401, 200]);

      const bogus = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5In0.c2VjcmV0LXNpZ25hdHVyZQ';
      const asked: boolean[] = [];
      const broken = new GraphMailboxClient({
        baseUrl: graph.baseUrl,
        user: BOB,
        accessToken: async ({ forceRefresh }) => {
          asked.push(forceRefresh);
          return bogus;
        },
      });
      const auth = await graphError(broken.resolveFolder('inbox'));
      expect(auth).toMatchObject({ kind: 'auth', status: 401, code: 'InvalidAuthenticationToken' });
      expect(asked).toEqual([false, true]);
      expect(`${auth.message} ${JSON.stringify(auth)} ${String(auth.stack)}`).not.toContain(bogus);
    });

    it('10 calls at once with maxConcurrent 4: Graph never sees more than 4 and no 429; without the limit it would', async () => {
      graph.setResponseDelay(150);
      try {
        const limited = client(CAROL, { maxConcurrent: 4 });
        await limited.resolveFolder('inbox');
        const before = graph.requests.length;
        const folders = await Promise.all(Array.from({ length: 10 }, (_, i) => limited.resolveFolder(i % 2 ? 'inbox' : 'archive')));
        expect(folders.map((f) => f.wellKnownName)).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 ? 'inbox' : 'archive')));
        const calls = graph.requests.slice(before).filter((r) => r.email === CAROL);
        expect(calls).toHaveLength(10);
        expect(calls.every((r) => r.status === 200)).toBe(true);
        expect(graph.maxConcurrentRequests(CAROL)).toBe(4);

        // The same burst through a client allowing 10 trips Exchange's MailboxConcurrency (and recovers by retrying).
        const unlimited = client(ERIN, { maxConcurrent: 10 });
        await unlimited.resolveFolder('inbox');
        const start = graph.requests.length;
        await Promise.all(Array.from({ length: 10 }, () => unlimited.resolveFolder('inbox')));
        expect(graph.maxConcurrentRequests(ERIN)).toBeGreaterThan(4);
        expect(graph.requests.slice(start).some((r) => r.status === 429)).toBe(true);
      } finally {
        graph.setResponseDelay(0);
      }
    });

    it('an app-only token works for any user of the tenant (folders, delta, subscriptions)', async () => {
      const app = tokenSource(appOnly);
      for (const user of [BOB, DAVE, graph.addUser(DAVE).id]) {
        const mailbox = new GraphMailboxClient({ baseUrl: graph.baseUrl, user, accessToken: app.accessToken });
        const inbox = await mailbox.resolveFolder('INBOX');
        expect(inbox.id).toBe(graph.folderId(user, 'inbox'));
        const baseline = await mailbox.delta(inbox.id, { receivedSince: new Date() }, async () => undefined);
        expect(baseline.messages).toBe(0);
        const sub = await mailbox.createSubscription({
          folderId: inbox.id,
          notificationUrl: `${receiver.base}/notify`,
          lifecycleNotificationUrl: null,
          expirationDateTime: new Date(Date.now() + 3_600_000),
          clientState: 'daemon',
        });
        expect(graph.subscription(sub.id)).toMatchObject({ applicationId: DAEMON, folderId: inbox.id });
        await mailbox.deleteSubscription(sub.id);
      }
      expect(app.asked.every((force) => !force)).toBe(true);
    });

    it('network failures: refused connections are retried then kind network; a slow answer times out', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const sleeps: number[] = [];
      const refused = new GraphMailboxClient({
        baseUrl: `http://127.0.0.1:${port}/v1.0`,
        user: ANA,
        accessToken: async () => 'token',
        maxRetries: 3,
        sleep: async (ms) => void sleeps.push(ms),
        random: () => 0,
      });
      const down = await graphError(refused.resolveFolder('inbox'));
      expect(down).toMatchObject({ kind: 'network', status: 0, code: 'ECONNREFUSED', retryAfterMs: null, requestId: null });
      expect(sleeps).toEqual([1000, 2000, 4000]);

      graph.setResponseDelay(500);
      try {
        const impatient = client(ANA, { timeoutMs: 150, maxRetries: 0 });
        const timedOut = await graphError(impatient.resolveFolder('inbox'));
        expect(timedOut).toMatchObject({ kind: 'network', status: 0, code: 'ETIMEDOUT' });
        expect(timedOut.message).toBe(`Graph GET /v1.0/users/${encodeURIComponent(ANA)}/mailFolders/inbox failed: no answer within 150 ms`);
      } finally {
        graph.setResponseDelay(0);
      }
    });

    it('caPem: a Graph endpoint with a private CA is trusted only with it', async () => {
      const tls = await generateLoopbackCertificate();
      const server = createHttpsServer({ key: tls.key, cert: tls.cert }, (req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json;odata.metadata=minimal;charset=utf-8' });
        res.end(JSON.stringify({ id: 'AQMk-tls=', displayName: 'Inbox', path: req.url }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}/v1.0`;
      try {
        const trusting = new GraphMailboxClient({ baseUrl, user: ANA, accessToken: async () => 'token', caPem: tls.cert });
        expect(await trusting.resolveFolder('inbox')).toEqual({ id: 'AQMk-tls=', displayName: 'Inbox', wellKnownName: 'inbox' });
        await trusting.close();
        // Not retried: a certificate problem does not go away by waiting.
        const sleeps: number[] = [];
        const untrusting = new GraphMailboxClient({ baseUrl, user: ANA, accessToken: async () => 'token', sleep: async (ms) => void sleeps.push(ms) });
        const error = await graphError(untrusting.resolveFolder('inbox'));
        expect([error.kind, error.code]).toEqual(['network', 'DEPTH_ZERO_SELF_SIGNED_CERT']);
        expect(sleeps).toEqual([]);
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });
});
