import { AppConfig, parseNetworkList } from '@app/config';
import { ListenerWorld, OAuthWorld, PUBLIC_CLIENT_ID, queryDatabase, RunningApi, startApi, startListener, WEB_CLIENT_ID, WEB_CLIENT_SECRET } from '@app/testing';

/** The same deployment with another OUTBOUND_ALLOWED_NETWORKS (same database, keys and queues). */
function withAllowedNetworks(config: AppConfig, list: string[]): AppConfig {
  return { ...config, outbound: { allowedNetworks: parseNetworkList(list).networks } };
}

/**
 * Issue 11, finding 3: in production, stored secrets do not follow a changed address, identity and Graph
 * endpoints are https, and no connection reaches an internal address unless OUTBOUND_ALLOWED_NETWORKS
 * lists it — checked when connecting, on the address a name resolves to. Real API, listener, Postgres,
 * Redis, fake Entra ID (TLS, on loopback) and Dovecot.
 */
describe('outbound policy in production (issue 11, finding 3)', () => {
  describe('identity and Graph addresses, and the secrets stored for them', () => {
    const world = new OAuthWorld();
    /** The same production API with no allow list: the fake identity server on loopback is out of reach. */
    let closed: RunningApi;

    beforeAll(async () => {
      await world.start({ env: { NODE_ENV: 'production', OUTBOUND_ALLOWED_NETWORKS: '127.0.0.0/8,::1/128' } });
      closed = await startApi(withAllowedNetworks(world.config, []));
    }, 60_000);

    afterAll(async () => {
      await closed?.close();
      await world.stop();
    });

    const tokenRows = (providerId: string) =>
      queryDatabase<Record<string, any>>(world.db.url, 'SELECT mailbox_id, state, access_token_encrypted, refresh_token_encrypted, last_error_code FROM oauth_tokens WHERE provider_id = $1', [providerId]);
    const secretOf = async (providerId: string) =>
      (await queryDatabase<{ s: string | null }>(world.db.url, 'SELECT oauth_client_secret_encrypted AS s FROM providers WHERE id = $1', [providerId]))[0].s;

    it('identity and Graph addresses must be https: a 400 naming the field; plain http only to an IP the allow list names', async () => {
      const imap = { name: 'I', type: 'imap', host: 'imap.contoso.test', authMethod: 'oauth2' };
      const identity = await closed.http.post('/v1/providers').set(closed.auth).send({ ...imap, oauth: { clientId: 'c', authorityHost: 'http://login.contoso.test' } }).expect(400);
      expect(identity.body.message).toBe('oauth.authorityHost: must be https in production (plain http only to an IP address listed in OUTBOUND_ALLOWED_NETWORKS)');
      const graph = await closed.http
        .post('/v1/providers')
        .set(closed.auth)
        .send({ name: 'G', type: 'microsoft-graph', oauth: { clientId: 'c' }, graphBaseUrl: 'http://graph.contoso.test/v1.0' })
        .expect(400);
      expect(graph.body.message).toBe('graphBaseUrl: must be https in production (plain http only to an IP address listed in OUTBOUND_ALLOWED_NETWORKS)');
      await closed.http.post('/v1/providers').set(closed.auth).send({ ...imap, oauth: { clientId: 'c', authorityHost: 'http://127.0.0.1:8080' } }).expect(400);

      // The allow list opens plain http to its addresses, never to a name.
      const opened = await world.api.http.post('/v1/providers').set(world.api.auth).send({ ...imap, oauth: { clientId: 'c', authorityHost: 'http://127.0.0.1:8080' } }).expect(201);
      const patch = await world.api.http.patch(`/v1/providers/${opened.body.id}`).set(world.api.auth).send({ oauth: { authorityHost: 'http://localhost:8080' } }).expect(400);
      expect(patch.body.message).toMatch(/^oauth.authorityHost: must be https in production/);
    });

    it('changing the identity address drops the client secret; given again in the same request, it is kept', async () => {
      const provider = await world.createMicrosoftProvider({ name: 'Confidential', domains: ['secret.contoso.com'], oauth: { clientId: WEB_CLIENT_ID, clientSecret: WEB_CLIENT_SECRET } });
      const moved = await world.api.http.patch(`/v1/providers/${provider.id}`).set(world.api.auth).send({ oauth: { authorityHost: 'https://login.attacker.test' } }).expect(200);
      expect(moved.body.oauth).toMatchObject({ authorityHost: 'https://login.attacker.test', hasClientSecret: false });
      expect(await secretOf(provider.id)).toBeNull();

      const back = await world.api.http
        .patch(`/v1/providers/${provider.id}`)
        .set(world.api.auth)
        .send({ oauth: { authorityHost: world.entra.authorityHost, clientSecret: WEB_CLIENT_SECRET } })
        .expect(200);
      expect(back.body.oauth).toMatchObject({ hasClientSecret: true });
      // Spelling is no move: the secret stays.
      const respelled = await world.api.http.patch(`/v1/providers/${provider.id}`).set(world.api.auth).send({ oauth: { authorityHost: `${world.entra.authorityHost}/` } }).expect(200);
      expect(respelled.body.oauth.hasClientSecret).toBe(true);
    });

    it('changing the identity address forgets the mailboxes\' tokens (issued by the old address) with the reason in their status', async () => {
      const provider = await world.createMicrosoftProvider({ name: 'Delegated', domains: ['tokens.contoso.com'], oauth: { clientId: PUBLIC_CLIENT_ID } });
      world.entra.addUser({ username: 'ana@tokens.contoso.com' });
      const { id } = await world.createMailbox('ana@tokens.contoso.com');
      await world.api.http.put(`/v1/mailboxes/${id}/token`).set(world.api.auth).send({ refreshToken: await world.refreshTokenFor('ana@tokens.contoso.com') }).expect(200);
      expect((await world.status(id)).token.state).toBe('active');

      await world.api.http.patch(`/v1/providers/${provider.id}`).set(world.api.auth).send({ oauth: { authorityHost: 'https://login.attacker.test' } }).expect(200);
      const status = await world.status(id);
      expect(status.token).toMatchObject({ state: 'not_obtained', lastError: { code: 'PROVIDER_ADDRESS_CHANGED' } });
      expect(status.recommendedAction).toMatch(/^Sign in again: the provider's oauth.authorityHost changed/);
      const [row] = await tokenRows(provider.id);
      expect(row).toMatchObject({ state: 'not_obtained', access_token_encrypted: null, refresh_token_encrypted: null });
    });

    it('changing the Graph address of an app-only provider needs the secret again; without app-only, a move drops the secret and the app-only token', async () => {
      const tenant = world.entra.tenantIdFor('apponly.contoso.com');
      const provider = await world.createMicrosoftProvider({
        name: 'App-only',
        type: 'microsoft-graph',
        domains: ['apponly.contoso.com'],
        oauth: { clientId: WEB_CLIENT_ID, clientSecret: WEB_CLIENT_SECRET, tenant, appOnly: true },
      });
      await world.api.http.post(`/v1/providers/${provider.id}/oauth/app-token`).set(world.api.auth).expect(200);
      const appToken = async () => (await tokenRows(provider.id)).find((row) => row.mailbox_id === null);
      expect(await appToken()).toMatchObject({ state: 'active' });

      const refused = await world.api.http.patch(`/v1/providers/${provider.id}`).set(world.api.auth).send({ graphBaseUrl: 'https://graph.attacker.test/v1.0' }).expect(400);
      expect(refused.body.message).toBe('oauth.clientSecret: is required again when graphBaseUrl changes (a stored secret is only sent to the address it was given for)');
      expect(await appToken()).toMatchObject({ state: 'active' });

      // Whoever knows the secret may move the provider: the secret and the app-only token stay.
      const resupplied = await world.api.http
        .patch(`/v1/providers/${provider.id}`)
        .set(world.api.auth)
        .send({ graphBaseUrl: 'https://graph.example.test/v1.0', oauth: { clientSecret: WEB_CLIENT_SECRET } })
        .expect(200);
      expect(resupplied.body).toMatchObject({ graphBaseUrl: 'https://graph.example.test/v1.0', oauth: { hasClientSecret: true } });
      expect(await appToken()).toMatchObject({ state: 'active' });

      const dropped = await world.api.http
        .patch(`/v1/providers/${provider.id}`)
        .set(world.api.auth)
        .send({ oauth: { appOnly: false, authorityHost: 'https://login.attacker.test' } })
        .expect(200);
      expect(dropped.body.oauth).toMatchObject({ hasClientSecret: false, appOnly: false });
      expect(await secretOf(provider.id)).toBeNull();
      expect(await appToken()).toMatchObject({ state: 'not_obtained', access_token_encrypted: null, last_error_code: 'PROVIDER_ADDRESS_CHANGED' });
    });

    it('changing only the Graph address of a delegated provider drops its client secret too', async () => {
      const provider = await world.createMicrosoftProvider({
        name: 'Delegated',
        type: 'microsoft-graph',
        domains: ['delegated-move.contoso.com'],
        oauth: { clientId: WEB_CLIENT_ID, clientSecret: WEB_CLIENT_SECRET },
      });
      expect(await secretOf(provider.id)).not.toBeNull();
      const moved = await world.api.http.patch(`/v1/providers/${provider.id}`).set(world.api.auth).send({ graphBaseUrl: 'https://graph.attacker.test/v1.0' }).expect(200);
      expect(moved.body).toMatchObject({ graphBaseUrl: 'https://graph.attacker.test/v1.0', oauth: { hasClientSecret: false } });
      expect(await secretOf(provider.id)).toBeNull();
    });

    it('the identity provider on a refused address is refused when connecting, with the code and how to allow it; also behind a name (localhost)', async () => {
      await world.createMicrosoftProvider({ name: 'Loopback identity', domains: ['idp.contoso.com'] });
      const literal = await world.createMailbox('ana@idp.contoso.com');
      const refused = await closed.http.post(`/v1/mailboxes/${literal.id}/oauth/device-code`).set(closed.auth).expect(409);
      expect(refused.body.message).toMatch(/^oauth.authorityHost: the provider's identity address is refused by the outbound policy: /);
      expect(refused.body.message).toContain('Refused to connect to 127.0.0.1: loopback addresses are not reached in production');
      expect(refused.body.message).toContain('OUTBOUND_ALLOWED_NETWORKS (e.g. 127.0.0.1/32)');

      const port = new URL(world.entra.authorityHost).port;
      await world.createMicrosoftProvider({ name: 'Named identity', domains: ['named.contoso.com'], oauth: { authorityHost: `https://localhost:${port}` } });
      const named = await world.createMailbox('bo@named.contoso.com');
      const rebinding = await closed.http.post(`/v1/mailboxes/${named.id}/oauth/device-code`).set(closed.auth).expect(409);
      expect(rebinding.body.message).toMatch(/Refused to connect to localhost \((127\.0\.0\.1|::1)\): loopback addresses are not reached in production/);

      // The allow list opens both.
      const allowed = await world.api.http.post(`/v1/mailboxes/${named.id}/oauth/device-code`).set(world.api.auth).expect(200);
      expect(allowed.body).toMatchObject({ userCode: expect.any(String) });
    });
  });

  describe('IMAP connections from the listener', () => {
    const world = new ListenerWorld();

    beforeAll(() => world.start({ env: { NODE_ENV: 'production' } }), 60_000);
    afterAll(() => world.stop());

    const connectingEvents = async (mailboxId: string) =>
      (await world.events.jobs()).filter((job) => job.name === 'mailbox.state_changed' && job.data.mailbox.id === mailboxId && job.data.state === 'connecting').length;

    it('a server on a loopback address, literal or behind a name, is refused at connect time with a clear status; allow-listed, it connects', async () => {
      // The world's provider: host 127.0.0.1. Another one named localhost (a name that resolves to loopback).
      const named = await world.api.http
        .post('/v1/providers')
        .set(world.api.auth)
        .send({ name: 'Named', type: 'imap', host: 'localhost', port: world.dovecot.port, secure: false, domains: ['named.contoso.com'] })
        .expect(201);
      expect(named.body.host).toBe('localhost');
      const literal = await world.mailbox('ana@contoso.com');
      const behindName = await world.mailbox('bo@named.contoso.com');

      const refusedLiteral = await world.waitFor(
        () => world.status(literal.id),
        (status) => status.connection.lastError?.code === 'OUTBOUND_ADDRESS_REFUSED',
        15_000,
        'the literal refused',
      );
      expect(refusedLiteral.connection).toMatchObject({ state: 'backoff', lastError: { message: expect.stringMatching(/^Refused to connect to 127.0.0.1: loopback addresses are not reached in production/) } });
      expect(refusedLiteral.recommendedAction).toMatch(/^Check the provider's server address: .*add its network to OUTBOUND_ALLOWED_NETWORKS \(e.g. 127.0.0.1\/32\)/);
      const refusedName = await world.waitFor(
        () => world.status(behindName.id),
        (status) => status.connection.lastError?.code === 'OUTBOUND_ADDRESS_REFUSED',
        15_000,
        'the name refused',
      );
      expect(refusedName.connection.lastError.message).toMatch(/^Refused to connect to localhost \((127\.0\.0\.1|::1)\): loopback addresses/);

      // Not retried as if the network had failed: one attempt, then a long wait.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(await connectingEvents(literal.id)).toBe(1);
      expect((await world.status(literal.id)).connection.state).toBe('backoff');

      await world.listener!.close();
      world.listener = await startListener(withAllowedNetworks(world.config, ['127.0.0.0/8']));
      await world.waitForState(literal.id, 'connected');
      await world.waitForState(behindName.id, 'connected');
      expect((await world.status(behindName.id)).connection.lastError).toBeNull();
    });
  });
});
