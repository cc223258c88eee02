import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { freePort, RunningApi, useApiSuite } from '@app/testing';

/**
 * Every OAuth operation that has to talk to the identity provider answers the same way when it cannot:
 * 503 with the reason, nothing stored, so the CRM retries (instead of a 500, a 400 or a 503 depending on
 * which button the user pressed).
 */
describe('identity provider unreachable (real app, real Postgres and Redis)', () => {
  const suite = useApiSuite();
  let api: RunningApi;
  let failing: Server;
  const UNREACHABLE = { statusCode: 503, error: 'Service Unavailable', message: expect.stringMatching(/^The identity provider could not be reached \(.+\); nothing was stored, try again/) };

  beforeAll(async () => {
    api = suite.api;
    // An identity server that is up but fails every request, as during an outage behind a load balancer.
    failing = createServer((_req, res) => res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"temporarily_unavailable"}'));
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
  });

  afterAll(() => new Promise<void>((resolve) => failing.close(() => resolve())));

  async function oauthMailbox(label: string, authorityHost: string, issuer?: 'google'): Promise<string> {
    const provider = await api.http
      .post('/v1/providers')
      .set(api.auth)
      .send({ name: label, type: 'imap', host: 'imap.example.test', authMethod: 'oauth2', oauth: { clientId: 'client-1', authorityHost, ...(issuer ? { issuer } : {}) }, domains: [`${label}.test`] })
      .expect(201);
    return (await api.http.post('/v1/mailboxes').set(api.auth).send({ email: `ana@${label}.test`, providerId: provider.body.id }).expect(201)).body.id;
  }

  const refused = async () => `https://127.0.0.1:${await freePort()}`;

  it.each([
    ['connection refused', refused],
    ['answering 503', async () => `http://127.0.0.1:${(failing.address() as AddressInfo).port}`],
  ])('%s: authorize, device code and token import all answer 503 with the reason', async (label, authority) => {
    const id = await oauthMailbox(label.replace(/\W+/g, '-'), await authority());
    const authorize = await api.http.get(`/v1/mailboxes/${id}/oauth/authorize`).set(api.auth);
    const deviceCode = await api.http.post(`/v1/mailboxes/${id}/oauth/device-code`).set(api.auth);
    const tokenImport = await api.http.put(`/v1/mailboxes/${id}/token`).set(api.auth).send({ refreshToken: 'rt-from-the-crm' });
    for (const res of [authorize, deviceCode, tokenImport]) expect(res.body).toEqual(UNREACHABLE);
    const status = await api.http.get(`/v1/mailboxes/${id}/status`).set(api.auth).expect(200);
    expect(status.body.token).toMatchObject({ state: 'not_obtained', pendingAuthorization: null });
  });

  it('Google: token import answers the same 503', async () => {
    const id = await oauthMailbox('google-down', await refused(), 'google');
    const res = await api.http.put(`/v1/mailboxes/${id}/token`).set(api.auth).send({ refreshToken: 'rt-from-the-crm' });
    expect(res.body).toEqual(UNREACHABLE);
  });

  it('app-only token: the same 503', async () => {
    const provider = await api.http
      .post('/v1/providers')
      .set(api.auth)
      .send({ name: 'App only', type: 'microsoft-graph', oauth: { clientId: 'client-2', clientSecret: 'app-secret-1', tenant: 'contoso.onmicrosoft.com', appOnly: true, authorityHost: await refused() } })
      .expect(201);
    const res = await api.http.post(`/v1/providers/${provider.body.id}/oauth/app-token`).set(api.auth);
    expect(res.body).toEqual(UNREACHABLE);
  });
});
