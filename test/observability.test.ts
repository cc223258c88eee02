import { execFileSync } from 'node:child_process';
import { RunningApi, useApiSuite } from '@app/testing';

describe('health, metrics and OpenAPI of the API app', () => {
  const suite = useApiSuite();

  let api: RunningApi;
  beforeAll(() => {
    api = suite.api;
  });

  it('is live and ready (database migrated, Redis up)', async () => {
    await api.http.get('/health/live').expect(200, { status: 'ok' });
    const ready = await api.http.get('/health/ready').expect(200);
    expect(ready.body.details).toEqual({ database: { status: 'up' }, redis: { status: 'up' } });
  });

  it('serves Prometheus metrics that promtool accepts', async () => {
    const res = await api.http.get('/metrics').expect(200);
    expect(res.text).toMatch(/^mail_listener_process_cpu_user_seconds_total\{app="api"\} /m);
    expect(res.text).toMatch(/^mail_listener_nodejs_eventloop_lag_p99_seconds\{app="api"\} /m);
    // Fleet-wide cluster gauges are the API's (they must read 0 when no listener is alive, not vanish).
    expect(res.text).toMatch(/^mail_listener_cluster_replicas\{state="live",app="api"\} 0$/m);
    expect(res.text).toMatch(/^mail_listener_cluster_replicas\{state="draining",app="api"\} 0$/m);
    expect(res.text).toMatch(/^mail_listener_unowned_mailboxes\{app="api"\} 0$/m);
    // promtool exits non-zero on any problem (and prints nothing when all is well).
    const lint = execFileSync('promtool', ['check', 'metrics'], { input: res.text, encoding: 'utf8' });
    expect(lint.trim()).toBe('');
  });

  it('publishes an OpenAPI document generated from the code, with bearer auth', async () => {
    const res = await api.http.get('/docs/openapi.json').expect(200);
    const paths = Object.keys(res.body.paths).sort();
    expect(paths).toEqual([
      '/v1/cluster',
      '/v1/graph/lifecycle',
      '/v1/graph/notifications',
      '/v1/mailboxes',
      '/v1/mailboxes/{id}',
      '/v1/mailboxes/{id}/messages/{ref}',
      '/v1/mailboxes/{id}/messages/{ref}/attachments/{attachmentId}',
      '/v1/mailboxes/{id}/messages/{ref}/raw',
      '/v1/mailboxes/{id}/oauth/authorize',
      '/v1/mailboxes/{id}/oauth/device-code',
      '/v1/mailboxes/{id}/outbox',
      '/v1/mailboxes/{id}/outbox/{sendId}',
      '/v1/mailboxes/{id}/resync',
      '/v1/mailboxes/{id}/status',
      '/v1/mailboxes/{id}/token',
      '/v1/providers',
      '/v1/providers/resolve',
      '/v1/providers/{id}',
      '/v1/providers/{id}/oauth/app-token',
      '/v1/webhooks',
      '/v1/webhooks/{id}',
      '/v1/webhooks/{id}/deliveries',
      '/v1/webhooks/{id}/deliveries/{eventId}/retry',
      '/v1/webhooks/{id}/rotate-secret',
      '/v1/webhooks/{id}/test',
    ]);
    expect(res.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const createProvider = res.body.components.schemas.CreateProviderDto;
    expect(Object.keys(createProvider.properties)).toEqual(
      expect.arrayContaining(['name', 'type', 'host', 'port', 'secure', 'verifyCertificate', 'loadEmails', 'sendEmails', 'loginFormat', 'authMethod', 'oauth', 'graphBaseUrl', 'domains']),
    );
    expect(JSON.stringify(res.body.components.schemas.ProviderResponse)).not.toContain('clientSecret');
    expect(JSON.stringify(res.body.components.schemas.MailboxResponse)).not.toContain('"password"');
    expect(JSON.stringify(res.body.components.schemas.WebhookResponse)).not.toContain('secret"');
    await api.http.get('/docs').expect(200);
  });
});
