import { FakeGraphDelivery, GRAPH_DAEMON_APP_ID, GRAPH_WEB_APP_ID, GraphWorld } from '@app/testing';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MIN = 60_000;

/**
 * Graph subscription lifecycle against the fake Graph, with the real API and listener: lifecycle events
 * (subscriptionRemoved, missed, reauthorizationRequired), renewal before expiry, polling without
 * PUBLIC_BASE_URL, app-only tokens, and what the status says when Graph refuses us.
 */
describe('Graph subscription lifecycle (fake Graph + Entra ID, real API, listener, Postgres, Redis)', () => {
  describe('with push (safety sweep off)', () => {
    const world = new GraphWorld();
    let seq = 0;
    const email = (name: string) => `${name}${++seq}@contoso.com`;
    const lifecycleUrl = () => `${world.api.url}/v1/graph/lifecycle`;
    const lifecycleDeliveries = (subscriptionId: string): FakeGraphDelivery[] =>
      world.graph.notificationDeliveries.filter((d) => d.kind === 'lifecycle' && d.subscriptionIds.includes(subscriptionId));
    const subscriptionPosts = () => world.graph.requests.filter((r) => r.method === 'POST' && r.path === '/v1.0/subscriptions').length;
    const subscriptionPostsOf = (address: string) => world.graph.requests.filter((r) => r.method === 'POST' && r.path === '/v1.0/subscriptions' && r.email === address);
    const apiCounter = (result: string) => world.metric(world.api.url, 'mail_listener_graph_notifications_total', { result });
    const stateChanges = async (mailboxId: string) => (await world.jobsOf(mailboxId, 'mailbox.state_changed')).length;

    beforeAll(() => world.start(), 60_000);
    afterAll(() => world.stop());

    it('subscriptionRemoved: a new subscription, the mail of the gap published; a repeated event changes nothing', async () => {
      const mailbox = await world.mailbox(email('removed'));
      await world.waitForState(mailbox.id, 'connected');
      const [old] = world.graphSubscriptions(mailbox.email);
      const counted = await apiCounter('lifecycle_subscriptionRemoved');

      world.graph.removeSubscription(old.id);
      // No subscription at Graph now: this one is never notified, only a delta finds it.
      const inGap = world.graph.deliver(mailbox.email, { subject: 'in the gap' });
      const [job] = await world.waitForReceived(mailbox.id, 1);
      expect(job.data.message.providerMessageId).toBe(inGap.immutableId);
      const [current] = world.graphSubscriptions(mailbox.email);
      expect(world.graphSubscriptions(mailbox.email)).toHaveLength(1);
      expect(current.id).not.toBe(old.id);
      expect((await world.subscriptionRows(mailbox.id)).map((row) => row.subscription_id)).toEqual([current.id]);
      const [removal] = lifecycleDeliveries(old.id);
      expect(removal.status).toBe(202);
      expect(await apiCounter('lifecycle_subscriptionRemoved')).toBe(counted + 1);
      await world.waitFor(() => world.status(mailbox.id), (s) => s.sync.folders[0].subscriptionId === current.id, 5_000, 'status shows the new subscription');

      // Graph delivering the same lifecycle POST again (a retry) must not replace the new subscription.
      const posts = subscriptionPosts();
      expect((await world.graph.sendRaw(lifecycleUrl(), removal.payload)).status).toBe(202);
      await sleep(700);
      expect(subscriptionPosts()).toBe(posts);
      expect(world.graphSubscriptions(mailbox.email).map((s) => s.id)).toEqual([current.id]);
      expect((await world.subscriptionRows(mailbox.id)).map((row) => row.subscription_id)).toEqual([current.id]);

      const after = world.graph.deliver(mailbox.email, { subject: 'after' });
      await world.waitForReceived(mailbox.id, 2);
      expect((await world.received(mailbox.id)).map((j) => j.data.message.providerMessageId).sort()).toEqual([inGap.immutableId, after.immutableId].sort());
      expect((await world.status(mailbox.id)).connection.state).toBe('connected');
    });

    it('missed: a delta round finds what Graph could not deliver; the late notification adds nothing', async () => {
      const mailbox = await world.mailbox(email('missed'));
      await world.waitForState(mailbox.id, 'connected');
      const [sub] = world.graphSubscriptions(mailbox.email);
      const counted = await apiCounter('lifecycle_missed');
      world.graph.pauseNotifications();
      try {
        const message = world.graph.deliver(mailbox.email, { subject: 'missed' });
        expect(await world.graph.sendLifecycle(sub.id, 'missed')).toBe(202);
        const [job] = await world.waitForReceived(mailbox.id, 1);
        expect(job.data.message.providerMessageId).toBe(message.immutableId);
        expect(await apiCounter('lifecycle_missed')).toBe(counted + 1);
      } finally {
        await world.graph.resumeNotifications();
      }
      await sleep(500);
      expect(await world.received(mailbox.id)).toHaveLength(1);
      expect(world.graphSubscriptions(mailbox.email).map((s) => s.id)).toEqual([sub.id]);
    });

    it('reauthorizationRequired: renews (reauthorizes) the subscription and fetches what Graph held back; repeats do not reconnect', async () => {
      const mailbox = await world.mailbox(email('reauth'));
      await world.waitForState(mailbox.id, 'connected');
      const [sub] = world.graphSubscriptions(mailbox.email);
      // Counted once `connected` is out (it reaches the queue after its row).
      const changes = (await world.waitForEvents(mailbox.id, 'mailbox.state_changed', (jobs) => jobs.some((job) => job.data.state === 'connected'), 'the connected event')).length;

      const challenge = world.graph.sendLifecycle(sub.id, 'reauthorizationRequired');
      // Graph now holds the change notifications of this subscription back (they are lost).
      const heldBack = world.graph.deliver(mailbox.email, { subject: 'held back' });
      expect(await challenge).toBe(202);
      const [job] = await world.waitForReceived(mailbox.id, 1);
      expect(job.data.message.providerMessageId).toBe(heldBack.immutableId);
      expect(world.graph.lostNotifications).toEqual(expect.arrayContaining([{ subscriptionId: sub.id, messageId: heldBack.immutableId, changeType: 'created', reason: 'reauthorization-required' }]));
      await world.waitFor(async () => world.graph.subscription(sub.id)?.reauthorizationRequired, (required) => required === false, 5_000, 'reauthorized');
      const renewals = world.graph.requests.filter((r) => r.path.startsWith(`/v1.0/subscriptions/${sub.id}`) && r.method !== 'GET');
      expect(renewals.map((r) => `${r.method} ${r.status}`)).toContain('PATCH 200');

      // Graph may ask several times; each answer is one more renewal, never a reconnect.
      for (let i = 0; i < 3; i++) expect(await world.graph.sendLifecycle(sub.id, 'reauthorizationRequired')).toBe(202);
      await world.waitFor(async () => world.graph.subscription(sub.id)?.reauthorizationRequired, (required) => required === false, 5_000, 'reauthorized again');
      await sleep(500);
      expect(await stateChanges(mailbox.id)).toBe(changes);
      expect(world.graphSubscriptions(mailbox.email).map((s) => s.id)).toEqual([sub.id]);

      const later = world.graph.deliver(mailbox.email, { subject: 'notified again' });
      await world.waitForReceived(mailbox.id, 2);
      expect(world.graph.lostNotifications.some((lost) => lost.messageId === later.immutableId)).toBe(false);
      expect((await world.status(mailbox.id)).connection.state).toBe('connected');
    });

    it('a message notified while the other folders are still being opened is not lost', async () => {
      const address = email('opening');
      world.addUser(address);
      // The inbox goes ahead; the four other folders' calls are held back 1.5 s, so the mailbox is surely
      // still connecting once the inbox is caught up (with one delay for all, the folders finished within
      // a few ms of each other and a loaded run could miss the window).
      const others = ['archive', 'sentitems', 'drafts', 'deleteditems'];
      const held = [...others, ...others.map((name) => encodeURIComponent(world.graph.folderId(address, name)))];
      world.graph.setResponseDelay(1_500, new RegExp(held.map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'i'));
      try {
        const mailbox = await world.mailbox(address, { folders: ['INBOX', 'Archive', 'SentItems', 'Drafts', 'DeletedItems'] });
        const inbox = world.graph.folderId(address, 'inbox');
        // As soon as the inbox is subscribed and caught up, and before the mailbox is connected.
        await world.waitFor(
          async () => world.graph.requests.find((r) => r.email === address && r.endedAt > 0 && r.path.includes(encodeURIComponent(inbox)) && r.path.endsWith('/messages/delta')),
          Boolean,
          15_000,
          'first inbox delta',
        );
        expect((await world.status(mailbox.id)).connection.state).toBe('connecting');
        const message = world.graph.deliver(address, { subject: 'while connecting' });
        await world.waitForState(mailbox.id, 'connected', 15_000);
        const [job] = await world.waitForReceived(mailbox.id, 1, 5_000);
        expect(job.data.message.providerMessageId).toBe(message.immutableId);
      } finally {
        world.graph.setResponseDelay(0);
      }
    });

    it('a mailbox changed while its folder is being subscribed ends with one subscription, none left behind at Graph', async () => {
      const address = email('changed');
      world.addUser(address);
      world.graph.setResponseDelay(400);
      try {
        const mailbox = await world.mailbox(address);
        // The runner is replaced (new settings) while Graph is still validating its first subscription.
        await world.waitFor(async () => subscriptionPostsOf(address).length, (n) => n === 1, 15_000, 'subscription POST');
        await world.api.http.patch(`/v1/mailboxes/${mailbox.id}`).set(world.api.auth).send({ externalId: 'crm-changed' }).expect(200);
        await world.waitForState(mailbox.id, 'connected', 20_000);
        await sleep(1_500);
        const live = world.graphSubscriptions(address);
        expect(live).toHaveLength(1);
        expect((await world.subscriptionRows(mailbox.id)).map((row) => row.subscription_id)).toEqual([live[0].id]);
      } finally {
        world.graph.setResponseDelay(0);
      }
    });

    it('app-only: a client-credentials token of the provider serves every mailbox of the tenant', async () => {
      const provider = await world.createAppOnlyProvider('fabrikam.com');
      const mailbox = await world.mailbox(`ops${++seq}@fabrikam.com`, { providerId: provider.id }, { token: false });
      const status = await world.waitForState(mailbox.id, 'connected');
      expect(status.token).toMatchObject({ state: 'active' });
      const [sub] = world.graphSubscriptions(mailbox.email);
      expect(sub.applicationId).toBe(GRAPH_DAEMON_APP_ID);
      const message = world.graph.deliver(mailbox.email, { subject: 'for the daemon' });
      const [job] = await world.waitForReceived(mailbox.id, 1, 5_000);
      expect(job.data.message.providerMessageId).toBe(message.immutableId);
      const apps = new Set(world.graph.requests.filter((r) => r.email === mailbox.email).map((r) => r.appId));
      expect([...apps]).toEqual([GRAPH_DAEMON_APP_ID]);
      expect(world.entra.tokenRequests.filter((r) => r.grantType === 'client_credentials' && r.status === 200).length).toBeGreaterThanOrEqual(1);
      // Delegated mailboxes still use their own tokens of the web app.
      expect(new Set(world.graph.requests.filter((r) => r.email?.startsWith('removed')).map((r) => r.appId))).toEqual(new Set([GRAPH_WEB_APP_ID]));
    });

    it('a token without Mail.Read is GRAPH_ACCESS_DENIED (grant Mail.Read); a revoked grant is a token to sign in again', async () => {
      // A provider whose consent lacks Mail.Read: the token is fine, Graph refuses the mailbox.
      const provider = await world.createProvider({ name: 'No Mail.Read', domains: ['northwind.com'], oauth: { scopes: ['offline_access', 'https://graph.microsoft.com/User.Read'] } });
      const address = `denied${++seq}@northwind.com`;
      world.addUser(address);
      const { id } = (await world.api.http.post('/v1/mailboxes').set(world.api.auth).send({ email: address, providerId: provider.id }).expect(201)).body;
      const refreshToken = world.entra.mintRefreshToken(GRAPH_WEB_APP_ID, address, 'offline_access https://graph.microsoft.com/User.Read');
      await world.api.http.put(`/v1/mailboxes/${id}/token`).set(world.api.auth).send({ refreshToken }).expect(200);
      // Created enabled without a token, the mailbox may first be auth_error TOKEN_NOT_OBTAINED (the listener was
      // quicker than the token PUT): what counts is where it ends with the token.
      const denied = await world.waitFor(
        () => world.status(id),
        (s) => s.connection.state === 'auth_error' && s.connection.lastError?.code !== 'TOKEN_NOT_OBTAINED',
        15_000,
        'auth_error after the token',
      );
      expect(denied.connection.lastError).toMatchObject({ code: 'GRAPH_ACCESS_DENIED', message: expect.stringMatching(/answered 403 ErrorAccessDenied: Access is denied/) });
      expect(denied.token.state).toBe('active');
      expect(denied.recommendedAction).toMatch(/^Grant access: Microsoft Graph denied access to this mailbox .*consent to Mail\.Read/);
      expect(world.graph.requests.filter((r) => r.email === address).map((r) => r.status)).toContain(403);

      const revoked = await world.mailbox(email('revoked'));
      await world.waitForState(revoked.id, 'connected');
      world.entra.revokeGrants(revoked.email, 'revoked');
      world.entra.invalidateAccessTokens(revoked.email);
      // The next Graph call (a delta after a notification) gets 401, refreshes once, and the refresh fails for good.
      world.graph.deliver(revoked.email, { subject: 'after revocation' });
      const status = await world.waitFor(() => world.status(revoked.id), (s) => s.connection.state === 'auth_error' && s.token.state === 'invalid', 15_000, 'auth_error');
      expect(status.recommendedAction).toMatch(/^Sign in again/);
      const authFailed = await world.waitForEvents(revoked.id, 'mailbox.auth_failed', (jobs) => jobs.length > 0, 'the auth_failed event');
      expect(authFailed).toHaveLength(1);
    });
  });

  describe('renewal before expiry (45-minute subscriptions, shifted clock)', () => {
    const world = new GraphWorld();

    // The safety sweep (every ~1.2 s here) also renews a subscription whose renewal time has passed by the clock.
    beforeAll(() => world.start({ env: { GRAPH_SUBSCRIPTION_MINUTES: '45', GRAPH_SAFETY_DELTA_MINUTES: '0.02' } }), 60_000);
    afterAll(() => world.stop());

    it('renews at 75 % of the lifetime, so the subscription outlives its first expiry and mail keeps flowing', async () => {
      const mailbox = await world.mailbox('renew@contoso.com');
      await world.waitForState(mailbox.id, 'connected');
      const [sub] = world.graphSubscriptions(mailbox.email);
      const firstExpiry = sub.expiresAt;
      expect(firstExpiry - sub.createdAt).toBeGreaterThan(44 * MIN);
      expect(firstExpiry - sub.createdAt).toBeLessThanOrEqual(45 * MIN);
      const patches = () => world.graph.requests.filter((r) => r.method === 'PATCH' && r.path === `/v1.0/subscriptions/${sub.id}`);
      await sleep(1_500);
      expect(patches()).toHaveLength(0);

      world.clock.advance(35 * MIN);
      await world.waitFor(
        async () => world.graph.requests.filter((r) => r.path.startsWith('/v1.0/subscriptions') && r.email === mailbox.email).map((r) => `${r.method} ${r.path} ${r.status}`),
        () => patches().filter((r) => r.status === 200).length === 1,
        10_000,
        `renewal of ${sub.id}`,
      );
      expect(patches()[0].at).toBeLessThan(firstExpiry);
      const renewed = world.graph.subscription(sub.id)!;
      expect(renewed.expiresAt).toBeGreaterThan(world.clock.now() + 44 * MIN);
      const [row] = await world.subscriptionRows(mailbox.id);
      expect(row.subscription_id).toBe(sub.id);
      expect(Math.abs(new Date(row.expires_at).getTime() - renewed.expiresAt)).toBeLessThan(1_000);
      expect(row.renewed_at).not.toBeNull();
      expect((await world.status(mailbox.id)).sync.folders[0].subscriptionExpiresAt).toBe(new Date(row.expires_at).toISOString());

      // Past the first expiry: still the same live subscription, still notified.
      world.clock.advance(15 * MIN);
      expect(world.graph.subscription(sub.id)).toBeDefined();
      const message = world.graph.deliver(mailbox.email, { subject: 'after the first expiry' });
      const [job] = await world.waitForReceived(mailbox.id, 1);
      expect(job.data.message.providerMessageId).toBe(message.immutableId);
      expect(patches()).toHaveLength(1);
    });

    it('a subscription Graph dropped without telling us is replaced at its renewal (404 → create)', async () => {
      const mailbox = await world.mailbox('dropped@contoso.com');
      await world.waitForState(mailbox.id, 'connected');
      const [sub] = world.graphSubscriptions(mailbox.email);
      world.graph.removeSubscription(sub.id, false);
      world.clock.advance(36 * MIN);
      const [fresh] = await world.waitFor(async () => world.graphSubscriptions(mailbox.email), (subs) => subs.length === 1, 10_000, 'replacement');
      expect(fresh.id).not.toBe(sub.id);
      expect(world.graph.requests.some((r) => r.method === 'PATCH' && r.path === `/v1.0/subscriptions/${sub.id}` && r.status === 404)).toBe(true);
      await world.waitFor(async () => (await world.subscriptionRows(mailbox.id)).map((row) => row.subscription_id), (ids) => ids.length === 1 && ids[0] === fresh.id, 5_000, 'row replaced');
      const message = world.graph.deliver(mailbox.email, { subject: 'to the new subscription' });
      const [job] = await world.waitForReceived(mailbox.id, 1);
      expect(job.data.message.providerMessageId).toBe(message.immutableId);
      expect((await world.status(mailbox.id)).connection.state).toBe('connected');
    });

    it('the folders of a mailbox renew in one $batch; a subscription the batch answers 404 for is the only one recreated', async () => {
      const mailbox = await world.mailbox('batch@contoso.com', { folders: ['INBOX', 'Archive', 'SentItems'] });
      await world.waitForState(mailbox.id, 'connected');
      const subs = world.graphSubscriptions(mailbox.email);
      expect(subs).toHaveLength(3);
      const [kept, lost, alsoKept] = subs.map((sub) => sub.id) as [string, string, string];
      const batches = () => world.graph.requests.filter((r) => r.method === 'POST' && r.path === '/v1.0/$batch');
      const patchesOf = (id: string) => world.graph.requests.filter((r) => r.method === 'PATCH' && r.path === `/v1.0/subscriptions/${id}`);
      const creates = () => world.graph.requests.filter((r) => r.method === 'POST' && r.path === '/v1.0/subscriptions' && r.email === mailbox.email).length;
      const batchesBefore = batches().length;
      const createsBefore = creates();

      // Graph lost one of the three without telling us; the renewal finds out.
      world.graph.removeSubscription(lost, false);
      world.clock.advance(36 * MIN);
      const current = await world.waitFor(
        async () => world.graphSubscriptions(mailbox.email).map((sub) => sub.id),
        (now) => now.length === 3 && !now.includes(lost),
        10_000,
        'the lost subscription replaced',
      );
      expect(current).toEqual(expect.arrayContaining([kept, alsoKept]));
      // One request of ours for the three renewals (the fake logs each item of the batch as well).
      expect(batches().length - batchesBefore).toBe(1);
      const [batch] = batches().slice(batchesBefore);
      const items = [kept, lost, alsoKept].map((id) => patchesOf(id));
      for (const patches of items) {
        expect(patches).toHaveLength(1);
        expect(patches[0]!.startedAt).toBeGreaterThanOrEqual(batch!.startedAt);
        expect(patches[0]!.endedAt).toBeLessThanOrEqual(batch!.endedAt);
      }
      expect(items.map((patches) => patches[0]!.status)).toEqual([200, 404, 200]);
      for (const id of [kept, alsoKept]) expect(world.graph.subscription(id)!.expiresAt).toBeGreaterThan(world.clock.now() + 44 * MIN);
      // Only the lost one was created anew; the others kept theirs.
      expect(creates() - createsBefore).toBe(1);
      await world.waitFor(async () => (await world.subscriptionRows(mailbox.id)).map((row) => row.subscription_id).sort(), (rows) => rows.join() === [...current].sort().join(), 5_000, 'rows follow');
      expect((await world.status(mailbox.id)).connection.state).toBe('connected');
    });
  });

  describe('without PUBLIC_BASE_URL (polling)', () => {
    const world = new GraphWorld();

    beforeAll(() => world.start({ push: false, env: { GRAPH_POLL_INTERVAL_SECONDS: '1' } }), 60_000);
    afterAll(() => world.stop());

    it('polls by delta, creates no subscription, and the status says so', async () => {
      const mailbox = await world.mailbox('poll@contoso.com');
      const status = await world.waitForState(mailbox.id, 'connected');
      expect(status.sync.folders[0]).toMatchObject({ name: 'INBOX', mode: 'polling', subscriptionId: null, subscriptionExpiresAt: null, lastDeltaAt: expect.any(String) });
      expect(status.recommendedAction).toMatch(/^Optional: set PUBLIC_BASE_URL/);
      const sent = Date.now();
      const message = world.graph.deliver(mailbox.email, { subject: 'polled' });
      const [job] = await world.waitForReceived(mailbox.id, 1, 5_000);
      expect(job.data.message.providerMessageId).toBe(message.immutableId);
      expect(Date.now() - sent).toBeLessThan(2_500);
      expect(world.graph.requests.filter((r) => r.path.startsWith('/v1.0/subscriptions'))).toHaveLength(0);
      expect(world.graph.notificationDeliveries).toHaveLength(0);
      await sleep(2_500);
      const deltas = world.graph.requests.filter((r) => r.email === mailbox.email && r.path.endsWith('/messages/delta'));
      expect(deltas.length).toBeGreaterThanOrEqual(3);
      expect(await world.received(mailbox.id)).toHaveLength(1);
      expect(await world.metric(world.listener!.url, 'mail_listener_graph_subscriptions', { state: 'polling' })).toBe(1);
      expect(await world.metric(world.listener!.url, 'mail_listener_graph_subscriptions', { state: 'active' })).toBe(0);
    });
  });
});
