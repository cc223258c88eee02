import { isFencedOut, MailboxLeaseRepository } from '@app/cluster';
import { AppConfig } from '@app/config';
import { OAuthTokenStore, TokenRefreshScheduler } from '@app/oauth';
import { MailboxCredentials, MailboxSpecsLoader } from '@app/sync';
import { metricValue, OAuthWorld, queryDatabase, RunningListener, startListener, WEB_CLIENT_ID, WEB_CLIENT_SECRET } from '@app/testing';

const MIN = 60_000;
const TTL_MS = 1_500;

/**
 * Token refresh with two listener replicas (in-process, real Postgres and Redis, fake Entra ID on a
 * manual clock): a mailbox's token is refreshed by the replica holding its lease, under that lease; a
 * provider's app-only token by the lowest-id live replica. Counted at the identity provider.
 */
describe('Token refresh by the owner only (two listeners, fake Entra ID, real Postgres and Redis)', () => {
  const world = new OAuthWorld();
  let a: RunningListener;
  let b: RunningListener;
  let leases: MailboxLeaseRepository;
  let store: OAuthTokenStore;
  let seq = 0;

  let aClosed: Promise<void> | undefined;
  const closeA = () => (aClosed ??= a.close());
  /**
   * A replica whose supervisor never sees the mailboxes made here (its first reconcile runs before they
   * exist, the next in 10 minutes, and it hears no control messages): this test decides who holds which lease, and no runner refreshes a
   * token on demand. Stopping does not wait for the other to take its leases (it never asks).
   */
  const replica = (id: string): AppConfig => ({
    ...world.config,
    // A control channel of their own: the API's announcements (created, token imported) would make them
    // reconcile at once and take the leases this test hands out itself.
    queuePrefix: `${world.config.queuePrefix}-replicas`,
    listener: { ...world.config.listener, id, reconcileIntervalMs: 10 * MIN },
    cluster: { ...world.config.cluster, drainTimeoutMs: 100 },
  });

  beforeAll(async () => {
    await world.start({
      env: { CLUSTER_HEARTBEAT_MS: '200', CLUSTER_LEASE_TTL_MS: String(TTL_MS) },
    });
    await world.createMicrosoftProvider({ name: 'Contoso', domains: ['contoso.com'] });
    world.entra.setAccessTokenLifetime(3600);
    // Ids chosen so that A is the lowest: it refreshes the app-only tokens.
    a = await startListener(replica('listener-a'), { clock: world.clock });
    b = await startListener(replica('listener-b'), { clock: world.clock });
    // Their first pass (scheduled at bootstrap) must be over before the tests make mailboxes: under load it
    // once ran after the first mailbox existed, took its lease, and the test's own acquire found it held.
    for (const listener of [a, b]) {
      await world.waitFor(async () => (await fetch(`${listener.url}/health/ready`)).status, (status) => status === 200, 30_000, `${listener.url} ready (first lease round done)`);
    }
    leases = a.app.get(MailboxLeaseRepository);
    store = a.app.get(OAuthTokenStore);
  });

  afterAll(async () => {
    await b?.close();
    if (a) await closeA();
    await world.stop();
  });

  const schedulerOf = (listener: RunningListener) => listener.app.get(TokenRefreshScheduler);
  const refreshesOf = (username: string) => world.entra.tokenRequests.filter((r) => r.grantType === 'refresh_token' && r.username === username).length;
  const refreshRequests = () => world.entra.tokenRequests.filter((r) => r.grantType === 'refresh_token').length;
  const appTokenRequests = () => world.entra.tokenRequests.filter((r) => r.grantType === 'client_credentials' && r.status === 200).length;
  const successes = (outcomes: string[]) => outcomes.filter((outcome) => outcome === 'success').length;

  /** A mailbox with an imported token issued "now"; `owner` takes its lease. */
  async function signedIn(owner?: string): Promise<{ id: string; email: string; tokenId: string }> {
    const email = `o${++seq}@contoso.com`;
    world.entra.addUser({ username: email });
    const { id } = await world.createMailbox(email);
    await world.api.http.put(`/v1/mailboxes/${id}/token`).set(world.api.auth).send({ refreshToken: await world.refreshTokenFor(email) }).expect(200);
    if (owner) expect(await leases.acquire([id], owner, TTL_MS)).toHaveLength(1);
    return { id, email, tokenId: (await store.findByMailbox(id))!.id };
  }

  /** Moves past every refresh window and lets both replicas refresh what is due: each test starts level. */
  async function drain(): Promise<void> {
    world.clock.advance(60 * MIN);
    await Promise.all([schedulerOf(a).runOnce(), schedulerOf(b).runOnce()]);
  }

  /**
   * A's scheduled refresh of the mailbox's token (due 49 minutes on) is at the identity provider (recorded
   * as it arrives, answered a second later) when B asks for the mailbox and A hands it over: the pass
   * answers 'skipped'.
   */
  async function handedOverDuringRefresh(mailboxId: string, epoch: number): Promise<void> {
    world.clock.advance(49 * MIN);
    world.entra.setTokenResponseDelay(1_000);
    try {
      const asked = refreshRequests() + 1;
      const pass = schedulerOf(a).runOnce();
      await world.waitFor(async () => refreshRequests(), (n) => n >= asked, 10_000, 'the refresh request');
      await leases.requestHandover([mailboxId], 'listener-b');
      expect(await leases.grantHandover(mailboxId, 'listener-a', epoch, TTL_MS)).toMatchObject({ to: 'listener-b' });
      expect(await pass).toEqual(['skipped']);
    } finally {
      world.entra.setTokenResponseDelay(0);
    }
  }

  it('a refresh whose lease moves on while the identity provider answers writes nothing and counts a fenced write', async () => {
    // First, on a fresh world: the only token due, so the one request at the identity provider is its own.
    const mailbox = await signedIn('listener-a');
    const before = (await store.find(mailbox.tokenId))!;
    const [lease] = await leases.heldBy('listener-a').then((held) => held.filter((l) => l.mailboxId === mailbox.id));
    const fencedBefore = metricValue(await (await fetch(`${a.url}/metrics`)).text(), 'mail_listener_fenced_writes_total');
    await handedOverDuringRefresh(mailbox.id, lease.epoch);
    const after = (await store.find(mailbox.tokenId))!;
    expect(after.accessTokenEncrypted).toEqual(before.accessTokenEncrypted);
    expect(after.lastRefreshAt?.getTime()).toBe(before.lastRefreshAt?.getTime());
    expect(after.refreshDueAt!.getTime()).toBe(before.refreshDueAt!.getTime());
    expect(metricValue(await (await fetch(`${a.url}/metrics`)).text(), 'mail_listener_fenced_writes_total')).toBe(fencedBefore + 1);
    // B, its owner now, is the one to refresh it (here the fake Entra ID would treat the refresh token A
    // redeemed as reused, stricter than Entra ID, which keeps old refresh tokens valid): out of the way.
    await world.api.http.patch(`/v1/mailboxes/${mailbox.id}`).set(world.api.auth).send({ enabled: false }).expect(200);
  });

  it('a refresh that fails for good while its lease moves on writes nothing either: the token stays active, no auth_failed', async () => {
    await drain();
    const mailbox = await signedIn('listener-a');
    const before = (await store.find(mailbox.tokenId))!;
    const [lease] = (await leases.heldBy('listener-a')).filter((l) => l.mailboxId === mailbox.id);
    const fencedBefore = metricValue(await (await fetch(`${a.url}/metrics`)).text(), 'mail_listener_fenced_writes_total');
    // The identity provider will answer that the grant was revoked (a permanent failure: the token would
    // turn invalid and mailbox.auth_failed be written to the outbox, in one transaction with that write).
    world.entra.revokeGrants(mailbox.email);
    await handedOverDuringRefresh(mailbox.id, lease.epoch);
    const after = (await store.find(mailbox.tokenId))!;
    expect(after.state).toBe('active');
    expect(after.lastErrorCode).toBeNull();
    expect(after.generation).toBe(before.generation);
    expect(after.refreshDueAt!.getTime()).toBe(before.refreshDueAt!.getTime());
    expect(metricValue(await (await fetch(`${a.url}/metrics`)).text(), 'mail_listener_fenced_writes_total')).toBe(fencedBefore + 1);
    await world.api.http.patch(`/v1/mailboxes/${mailbox.id}`).set(world.api.auth).send({ enabled: false }).expect(200);
  });

  it("leaves a mailbox's token to the replica holding its lease: refreshed once across both, each owner its own", async () => {
    await drain();
    const ofA = await Promise.all([1, 2, 3].map(() => signedIn('listener-a')));
    const ofB = await Promise.all([1, 2, 3].map(() => signedIn('listener-b')));
    const before = new Map([...ofA, ...ofB].map((m) => [m.email, refreshesOf(m.email)]));
    world.clock.advance(49 * MIN);

    // B alone: only its own three.
    const requests = refreshRequests();
    expect(successes(await schedulerOf(b).runOnce())).toBe(3);
    for (const m of ofA) expect(refreshesOf(m.email)).toBe(before.get(m.email));
    for (const m of ofB) expect(refreshesOf(m.email)).toBe(before.get(m.email)! + 1);

    // Both at once: A refreshes its three, B finds nothing left that is its own.
    const [byA, byB] = await Promise.all([schedulerOf(a).runOnce(), schedulerOf(b).runOnce()]);
    expect([successes(byA), successes(byB)]).toEqual([3, 0]);
    for (const m of [...ofA, ...ofB]) expect(refreshesOf(m.email)).toBe(before.get(m.email)! + 1);
    expect(refreshRequests() - requests).toBe(6);
    for (const m of ofA) expect((await store.find(m.tokenId))!.lastRefreshAt!.getTime()).toBe(world.clock.now());
  });

  it('a token of a mailbox nobody holds a lease on (no leases yet) is refreshed once, by whichever replica comes first', async () => {
    await drain();
    const free = await signedIn();
    const before = refreshesOf(free.email);
    world.clock.advance(49 * MIN);
    await Promise.all([schedulerOf(a).runOnce(), schedulerOf(b).runOnce()]);
    expect(refreshesOf(free.email)).toBe(before + 1);
  });

  it("a runner whose lease was taken cannot refresh its mailbox's token on demand: the identity provider is not asked, nothing is written", async () => {
    await drain();
    const mailbox = await signedIn('listener-a');
    const [lease] = (await leases.heldBy('listener-a')).filter((l) => l.mailboxId === mailbox.id);
    // The spec A's runner of the mailbox runs with, and the credentials every runner of A resolves through.
    const spec = (await a.app.get(MailboxSpecsLoader).desired()).get(mailbox.id)!.spec;
    const credentials = a.app.get(MailboxCredentials);
    const before = (await store.find(mailbox.tokenId))!;
    const refreshes = refreshesOf(mailbox.email);

    // B asks for the mailbox and A hands it over; A's runner, not yet stopped, then needs a fresh token
    // (the server refused the old one: forceRefresh).
    await leases.requestHandover([mailbox.id], 'listener-b');
    const granted = await leases.grantHandover(mailbox.id, 'listener-a', lease.epoch, TTL_MS);
    expect(granted).toMatchObject({ to: 'listener-b' });
    const refused = await credentials.resolve(spec, { forceRefresh: true, lease: { owner: 'listener-a', epoch: lease.epoch } }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(isFencedOut(refused)).toBe(true);
    expect(refreshesOf(mailbox.email)).toBe(refreshes);
    const after = (await store.find(mailbox.tokenId))!;
    expect(after.accessTokenEncrypted).toEqual(before.accessTokenEncrypted);
    expect(after.lastRefreshAt?.getTime()).toBe(before.lastRefreshAt?.getTime());

    // Its owner now, B's runner refreshes it on demand like before.
    const resolved = await b.app.get(MailboxCredentials).resolve(spec, { forceRefresh: true, lease: { owner: 'listener-b', epoch: granted!.epoch } });
    expect(resolved.credential.kind).toBe('oauth2');
    expect(refreshesOf(mailbox.email)).toBe(refreshes + 1);
  });

  it('refreshes an app-only token on the lowest-id live replica only, and on the next one once that one is gone', async () => {
    await drain();
    const provider = await world.createMicrosoftProvider({
      name: 'App-only',
      type: 'microsoft-graph',
      domains: ['apponly.contoso.com'],
      oauth: { clientId: WEB_CLIENT_ID, clientSecret: WEB_CLIENT_SECRET, tenant: world.entra.tenantIdFor('contoso.com'), appOnly: true },
    });
    await world.api.http.post(`/v1/providers/${provider.id}/oauth/app-token`).set(world.api.auth).expect(200);
    const before = appTokenRequests();
    world.clock.advance(55 * MIN);

    await schedulerOf(b).runOnce();
    expect(appTokenRequests()).toBe(before);
    await Promise.all([schedulerOf(a).runOnce(), schedulerOf(b).runOnce()]);
    expect(appTokenRequests()).toBe(before + 1);

    // A stops; once it has been silent for the lease time (by the database's clock) B takes over.
    await closeA();
    await world.waitFor(
      () => queryDatabase<{ live: boolean }>(world.db.url, `SELECT heartbeat_at >= now() - $1 * interval '1 millisecond' AS live FROM listener_replicas WHERE id = 'listener-a'`, [TTL_MS]),
      (rows) => rows[0]?.live === false,
      10_000,
      'listener-a to count as dead',
    );
    world.clock.advance(55 * MIN);
    await schedulerOf(b).runOnce();
    expect(appTokenRequests()).toBe(before + 2);
  });
});
