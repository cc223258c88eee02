import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { FakeEntraId, ListenerReplicas, ListenerWorld, PrometheusServer, PUBLIC_CLIENT_ID, StaticExporter, WebhookReceiver, withShortFor } from '@app/testing';

const RULES = readFileSync(join(__dirname, '..', 'deploy/prometheus/alerts.yml'), 'utf8');
/** Every `for:` of the rules in this test; Prometheus scrapes and evaluates every second. */
const FOR = '2s';
const HEARTBEAT_MS = 300;
const LEASE_TTL_MS = 1500;
/** Three mailboxes, two replicas of at most two each: one replica alone cannot hold them all. */
const MAX_PER_REPLICA = 2;
const OAUTH_DOMAIN = 'fabrikam.com';

/** kube-state-metrics' view of the listener Deployment, which the rules compare live replicas with. */
const deploymentReplicas = (n: number) => `kube_deployment_spec_replicas{namespace="mail-listener",deployment="mail-listener-listener"} ${n}\n`;

/**
 * deploy/prometheus/alerts.yml loaded into a real Prometheus (only the `for:` durations shortened) that
 * scrapes the API and two listener processes: real faults make the alerts fire, and fixing them resolves them,
 * as Prometheus' own /api/v1/rules reports.
 */
describe('alert rules in a real Prometheus: real faults fire them, fixes resolve them', () => {
  const world = new ListenerWorld();
  let entra: FakeEntraId;
  let replicas: ListenerReplicas;
  let kubeStateMetrics: StaticExporter;
  let prometheus: PrometheusServer;
  let receiver: WebhookReceiver;
  let caDir: string;
  const ids: Record<string, string> = {};

  const listenerTargets = () => ['listener-a', 'listener-b'].map((id) => `127.0.0.1:${replicas.get(id).port}`);

  beforeAll(async () => {
    entra = await FakeEntraId.start();
    entra.registerApp({ clientId: PUBLIC_CLIENT_ID });
    caDir = mkdtempSync(join(tmpdir(), 'ml-alerts-ca-'));
    writeFileSync(join(caDir, 'entra-ca.pem'), entra.caPem);
    const oauthCa = { OAUTH_CA_FILE: join(caDir, 'entra-ca.pem') };
    await world.start({
      listener: false,
      dovecot: { oauth2IntrospectionUrl: `${entra.plainHttpBaseUrl}/introspect`, oauth2Mechanisms: ['xoauth2'] },
      env: { CLUSTER_HEARTBEAT_MS: String(HEARTBEAT_MS), CLUSTER_LEASE_TTL_MS: String(LEASE_TTL_MS), ...oauthCa },
    });
    await world.api.http
      .post('/v1/providers')
      .set(world.api.auth)
      .send({
        name: 'Dovecot OAuth',
        type: 'imap',
        host: '127.0.0.1',
        port: world.dovecot.port,
        secure: false,
        authMethod: 'oauth2',
        oauth: { clientId: PUBLIC_CLIENT_ID, tenant: 'organizations', authorityHost: entra.authorityHost },
        domains: [OAUTH_DOMAIN],
      })
      .expect(201);
    ids.ana = (await world.mailbox('ana@contoso.com')).id;
    ids.cy = await oauthMailbox(`cy@${OAUTH_DOMAIN}`);

    replicas = new ListenerReplicas(world.config, {
      ...oauthCa,
      LISTENER_MAX_MAILBOXES: String(MAX_PER_REPLICA),
      WEBHOOK_RETRY_BASE_MS: '200',
      WEBHOOK_RETRY_MAX_MS: '1000',
    });
    await replicas.start('listener-a');
    await replicas.start('listener-b');
    kubeStateMetrics = await StaticExporter.start(deploymentReplicas(2));
    receiver = await WebhookReceiver.start();
    prometheus = await PrometheusServer.start({
      rules: [withShortFor(RULES, FOR).text],
      jobs: {
        'mail-listener-api': [world.api.url.replace(/^http:\/\//, '')],
        'mail-listener-listener': listenerTargets(),
        'kube-state-metrics': [kubeStateMetrics.target],
      },
    });
    for (const id of Object.values(ids)) await world.waitForState(id, 'connected', 30_000);
    // Every target scraped at least once and healthy.
    await prometheus.waitForQuery('up', (result) => result.length === 4 && result.every((series) => series.value === 1), 30_000);
  }, 180_000);

  afterAll(async () => {
    await prometheus?.stop();
    await replicas?.killAll();
    await kubeStateMetrics?.stop();
    await receiver?.close();
    await world.stop();
    await entra?.stop();
    if (caDir) rmSync(caDir, { recursive: true, force: true });
  }, 120_000);

  /** An OAuth mailbox on Dovecot (XOAUTH2, introspected by the fake Entra ID) with a refresh token the CRM imported. */
  async function oauthMailbox(email: string): Promise<string> {
    entra.addUser({ username: email });
    await world.dovecot.addUser(email, 'unused-password');
    const { id } = (await world.api.http.post('/v1/mailboxes').set(world.api.auth).send({ email }).expect(201)).body;
    await importToken(id, email);
    return id;
  }

  async function importToken(id: string, email: string): Promise<void> {
    await world.api.http.put(`/v1/mailboxes/${id}/token`).set(world.api.auth).send({ refreshToken: entra.mintRefreshToken(PUBLIC_CLIENT_ID, email) }).expect(200);
  }

  /** Waits until Prometheus reports the alert firing; answers its firing instances (labels, and the expression's value). */
  async function firing(name: string): Promise<Array<{ labels: Record<string, string>; value: number }>> {
    const rule = await prometheus.waitForAlert(name, 'firing', 60_000);
    return rule.alerts.filter((alert) => alert.state === 'firing').map((alert) => ({ labels: alert.labels, value: Number(alert.value) }));
  }

  it('loads every rule of deploy/prometheus/alerts.yml as written, only the `for:` durations shortened', async () => {
    type Rules = { groups: Array<{ name: string; rules: Array<Record<string, unknown>> }> };
    const withoutFor = (file: Rules) => file.groups.map((group) => ({ ...group, rules: group.rules.map(({ for: _for, ...rest }) => rest) }));
    const { text, shortened } = withShortFor(RULES, FOR);
    expect(withoutFor(load(text) as Rules)).toEqual(withoutFor(load(RULES) as Rules));
    expect(shortened).toEqual(expect.arrayContaining(['MailListenerMailboxesAuthFailing', 'MailListenerMailboxesInBackoff', 'MailListenerTokensNeedSignIn', 'MailListenerWebhookEndpointFailing']));

    const written = (load(RULES) as Rules).groups.flatMap((group) => group.rules.filter((rule) => rule.alert).map((rule) => rule.alert));
    const loaded = await prometheus.alertingRules();
    expect(loaded.map((rule) => rule.name).sort()).toEqual([...written].sort());
    // Evaluated without error (health is `unknown` before the first evaluation, `err` on a failing query).
    expect(loaded.filter((rule) => rule.health !== 'ok').map((rule) => `${rule.name}: ${rule.health} ${rule.lastError ?? ''}`)).toEqual([]);
  });

  it('a mailbox whose password is wrong: MailListenerMailboxesAuthFailing fires, and resolves once the CRM sets the right one', async () => {
    await prometheus.waitForAlert('MailListenerMailboxesAuthFailing', 'inactive');
    await world.dovecot.addUser('eve@contoso.com', 'the-right-one');
    const { id } = (await world.api.http.post('/v1/mailboxes').set(world.api.auth).send({ email: 'eve@contoso.com', password: 'a-wrong-one' }).expect(201)).body;
    ids.eve = id;
    expect((await world.waitForState(id, 'auth_error', 30_000)).connection.lastError.code).toBe('AUTHENTICATIONFAILED');
    expect(await firing('MailListenerMailboxesAuthFailing')).toEqual([{ labels: expect.objectContaining({ severity: 'warning' }), value: 1 }]);

    await world.api.http.patch(`/v1/mailboxes/${id}`).set(world.api.auth).send({ password: 'the-right-one' }).expect(200);
    await world.waitForState(id, 'connected', 30_000);
    await prometheus.waitForAlert('MailListenerMailboxesAuthFailing', 'inactive', 30_000);
  }, 120_000);

  it('a mail server that went away: MailListenerMailboxesInBackoff fires while it is down, and resolves once it is back', async () => {
    await prometheus.waitForAlert('MailListenerMailboxesInBackoff', 'inactive');
    await world.dovecot.stop();
    try {
      // Each retry passes through `connecting` for a moment: at least one of the three is in backoff at any time.
      const [inBackoff] = await firing('MailListenerMailboxesInBackoff');
      expect(inBackoff.value).toBeGreaterThanOrEqual(1);
      expect((await world.status(ids.ana)).connection.state).toMatch(/^(backoff|connecting)$/);
    } finally {
      await world.dovecot.restart();
    }
    for (const id of Object.values(ids)) await world.waitForState(id, 'connected', 60_000);
    await prometheus.waitForAlert('MailListenerMailboxesInBackoff', 'inactive', 30_000);
  }, 150_000);

  it('a token turned invalid (the identity server refuses its refresh): MailListenerTokensNeedSignIn fires, and resolves after a new sign-in', async () => {
    await prometheus.waitForAlert('MailListenerTokensNeedSignIn', 'inactive');
    const email = `cy@${OAUTH_DOMAIN}`;
    entra.revokeGrants(email, 'revoked');
    entra.invalidateAccessTokens(email);
    await world.dovecot.kickUser(email);
    const status = await world.waitFor(() => world.status(ids.cy), (s) => s.token.state === 'invalid', 30_000, 'token invalid');
    expect(status.token.lastError).toMatchObject({ code: 'AADSTS50173' });
    expect(await firing('MailListenerTokensNeedSignIn')).toEqual([{ labels: expect.objectContaining({ severity: 'info' }), value: 1 }]);

    await importToken(ids.cy, email);
    await world.waitForState(ids.cy, 'connected', 30_000);
    await prometheus.waitForAlert('MailListenerTokensNeedSignIn', 'inactive', 30_000);
    await prometheus.waitForAlert('MailListenerMailboxesAuthFailing', 'inactive', 30_000);
  }, 120_000);

  it('a webhook endpoint failing (answering 500): MailListenerWebhookEndpointFailing fires, and resolves once it answers 200', async () => {
    await prometheus.waitForAlert('MailListenerWebhookEndpointFailing', 'inactive');
    receiver.answerWith(() => ({ status: 500 }));
    const endpoint = (await world.api.http.post('/v1/webhooks').set(world.api.auth).send({ url: receiver.url, events: ['*'] }).expect(201)).body;
    await world.api.http.post(`/v1/webhooks/${endpoint.id}/test`).set(world.api.auth).expect(202);
    const [failingFor] = await firing('MailListenerWebhookEndpointFailing');
    expect(failingFor.value).toBeGreaterThan(0);
    expect((await world.api.http.get(`/v1/webhooks/${endpoint.id}`).set(world.api.auth).expect(200)).body.failingSince).not.toBeNull();

    receiver.answerWith(() => ({ status: 200 }));
    await prometheus.waitForAlert('MailListenerWebhookEndpointFailing', 'inactive', 30_000);
    expect((await world.api.http.get(`/v1/webhooks/${endpoint.id}`).set(world.api.auth).expect(200)).body.failingSince).toBeNull();
  }, 120_000);

  it('a listener replica killed: its target is down, a replica is missing and mailboxes are unowned; all resolve once it is replaced', async () => {
    for (const name of ['MailListenerTargetDown', 'MailListenerReplicasMissing', 'MailListenerMailboxesUnowned']) await prometheus.waitForAlert(name, 'inactive');
    const killed = `127.0.0.1:${replicas.get('listener-b').port}`;
    expect(await replicas.kill('listener-b')).toBe(137);

    expect((await firing('MailListenerTargetDown')).map((alert) => alert.labels)).toContainEqual(expect.objectContaining({ job: 'mail-listener-listener', instance: killed }));
    expect(await firing('MailListenerReplicasMissing')).toEqual([expect.objectContaining({ value: 1 })]);
    // The survivor takes what its cap allows (within a lease round, so this may take one more evaluation); the rest waits for a replica.
    const unowned = Object.keys(ids).length - MAX_PER_REPLICA;
    await world.waitFor(() => firing('MailListenerMailboxesUnowned'), (alerts) => alerts.length === 1 && alerts[0].value === unowned, 15_000, `${unowned} unowned`);
    expect((await prometheus.alertingRule('MailListenerListenersUnavailable')).state).toBe('inactive');

    // Its replacement comes up elsewhere (a new port), as a rescheduled pod does; discovery follows.
    await replicas.start('listener-b');
    await prometheus.setTargets('mail-listener-listener', listenerTargets());
    for (const name of ['MailListenerTargetDown', 'MailListenerReplicasMissing', 'MailListenerMailboxesUnowned']) await prometheus.waitForAlert(name, 'inactive', 30_000);
  }, 120_000);
});
