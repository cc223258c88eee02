import { execFileSync } from 'node:child_process';
import { queryDatabase, sampleMailReceived, sampleStateChanged, WebhookReceiver, WebhooksWorld, ManualClock } from '@app/testing';

/**
 * Webhooks end to end in one process pair (API + listener in-process, real Postgres and Redis): registration,
 * signed delivery verified with the `standardwebhooks` package, filtering, rotation, retries and the faults
 * an endpoint can show. Time-based rules (24 h) run on a ManualClock.
 */
describe('webhooks (API + delivering listener, real Postgres and Redis)', () => {
  const clock = new ManualClock();
  const world = new WebhooksWorld();
  const receivers: WebhookReceiver[] = [];
  const receiver = async () => {
    const started = await WebhookReceiver.start();
    receivers.push(started);
    return started;
  };

  beforeAll(async () => {
    await world.start({ clock });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await world.stop();
  });

  it('registers an endpoint: 201 with a whsec_ secret shown once, stored encrypted; list, get, patch and delete', async () => {
    const target = await receiver();
    const created = await world.api.http.post('/v1/webhooks').set(world.api.auth).send({ url: target.url, events: ['mail.received'], description: 'CRM' }).expect(201);
    expect(created.body).toMatchObject({ url: target.url, events: ['mail.received'], enabled: true, description: 'CRM' });
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(created.body.secret.slice(6), 'base64')).toHaveLength(32);
    const id = created.body.id;
    const fetched = await world.api.http.get(`/v1/webhooks/${id}`).set(world.api.auth).expect(200);
    expect(fetched.body.secret).toBeUndefined();
    expect(JSON.stringify(fetched.body)).not.toContain(created.body.secret.slice(6));
    const [row] = await queryDatabase<{ sealed: string }>(world.db.url, `SELECT secret_encrypted AS sealed FROM webhook_endpoints WHERE id = $1`, [id]);
    expect(row.sealed).toMatch(/^v1\./);
    expect(row.sealed).not.toContain(created.body.secret.slice(6));
    const list = await world.api.http.get('/v1/webhooks').set(world.api.auth).expect(200);
    expect(list.body.items.map((item: { id: string }) => item.id)).toContain(id);
    expect(list.body.items.every((item: Record<string, unknown>) => item.secret === undefined)).toBe(true);
    const patched = await world.api.http.patch(`/v1/webhooks/${id}`).set(world.api.auth).send({ events: ['*'], enabled: false }).expect(200);
    expect(patched.body).toMatchObject({ events: ['*'], enabled: false });
    await world.api.http.delete(`/v1/webhooks/${id}`).set(world.api.auth).expect(204);
    await world.api.http.get(`/v1/webhooks/${id}`).set(world.api.auth).expect(404);
  });

  it.each([
    [{ url: 'ftp://crm.example.com/hook', events: ['*'] }, /url: must be an http\(s\) URL/],
    [{ url: 'https://user:pw@crm.example.com/hook', events: ['*'] }, /url: must not carry credentials/],
    [{ url: 'https://no-such-host.invalid/hook', events: ['*'] }, /url: host no-such-host.invalid does not resolve/],
    [{ url: 'https://crm.example.com/hook', events: ['mail.exploded'] }, /events: must be .*\*.* or one of mail.received/],
    [{ url: 'https://crm.example.com/hook', events: [] }, /events/],
    [{ events: ['*'] }, /url/],
  ])('refuses a bad registration %j with a 400 naming the reason', async (body, reason) => {
    const res = await world.api.http.post('/v1/webhooks').set(world.api.auth).send(body).expect(400);
    expect(JSON.stringify(res.body.message)).toMatch(reason);
  });

  it('needs the API key', async () => {
    await world.api.http.get('/v1/webhooks').expect(401);
    await world.api.http.post('/v1/webhooks').send({ url: 'https://crm.example.com/x', events: ['*'] }).expect(401);
  });

  it('delivers a test event signed by the Standard Webhooks rules (verified by the standardwebhooks package) and logs it', async () => {
    const target = await receiver();
    const { id, secret } = await world.register(target.url);
    const queued = await world.api.http.post(`/v1/webhooks/${id}/test`).set(world.api.auth).expect(202);
    await target.until((got) => got.some((r) => r.id === queued.body.eventId), 15_000, 'the test event');
    const [request] = target.of(queued.body.eventId);
    expect(request.contentType).toBe('application/json');
    expect(Math.abs(Number(request.timestamp) - Date.now() / 1000)).toBeLessThan(60);
    const payload = WebhookReceiver.verify(request, secret);
    expect(payload).toMatchObject({ id: queued.body.eventId, type: 'webhook.test', webhook: { id } });
    const log = await world.waitFor(() => world.deliveries(id), (items) => items.length > 0, 5_000, 'the log');
    expect(log[0]).toMatchObject({ eventId: queued.body.eventId, eventType: 'webhook.test', attempt: 1, status: 200, error: null });
  });

  it('delivers each published event to the endpoints subscribed to its type only', async () => {
    const [a, b, c] = [await receiver(), await receiver(), await receiver()];
    const mailOnly = await world.register(a.url, ['mail.received']);
    const stateOnly = await world.register(b.url, ['mailbox.state_changed']);
    await world.register(c.url, ['*']);
    const mail = sampleMailReceived();
    const state = sampleStateChanged();
    await world.publish(mail, state);
    await c.until((got) => got.length >= 2, 15_000, 'both events at the * endpoint');
    await a.until((got) => got.some((r) => r.id === mail.id), 5_000, 'mail.received at the mail endpoint');
    await b.until((got) => got.some((r) => r.id === state.id), 5_000, 'state_changed at the state endpoint');
    // An attempt's log row is written after the endpoint answered: wait for the rows, not read them once.
    const mailLog = await world.waitFor(() => world.deliveries(mailOnly.id), (items) => items.length > 0, 5_000, 'the mail endpoint logged');
    const stateLog = await world.waitFor(() => world.deliveries(stateOnly.id), (items) => items.length > 0, 5_000, 'the state endpoint logged');
    expect(mailLog.map((d) => d.eventId)).toEqual([mail.id]);
    expect(stateLog.map((d) => d.eventId)).toEqual([state.id]);
    expect(a.received.map((r) => r.id)).toEqual([mail.id]);
    expect(b.received.map((r) => r.id)).toEqual([state.id]);
  });

  it('signs with the old and the new secret for 24 h after a rotation, then with the new one only', async () => {
    const target = await receiver();
    const { id, secret: old } = await world.register(target.url);
    const rotated = await world.api.http.post(`/v1/webhooks/${id}/rotate-secret`).set(world.api.auth).expect(200);
    const fresh = rotated.body.secret;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(old);
    await world.syncWorkers();
    const first = sampleMailReceived();
    await world.publish(first);
    await target.until((got) => got.some((r) => r.id === first.id), 15_000, 'the first event');
    const during = target.of(first.id)[0];
    expect(during.signature.split(' ')).toHaveLength(2);
    expect(WebhookReceiver.verify(during, old).id).toBe(first.id);
    expect(WebhookReceiver.verify(during, fresh).id).toBe(first.id);

    clock.advance(24 * 3600_000 + 1_000);
    const second = sampleMailReceived();
    await world.publish(second);
    await target.until((got) => got.some((r) => r.id === second.id), 15_000, 'the second event');
    const after = target.of(second.id)[0];
    expect(after.signature.split(' ')).toHaveLength(1);
    expect(WebhookReceiver.verify(after, fresh).id).toBe(second.id);
    expect(() => WebhookReceiver.verify(after, old)).toThrow(/No matching signature/);
  });

  it('retries an endpoint answering 500, then 200; the log shows both attempts', async () => {
    const target = await receiver();
    target.answerWith((_r, n) => ({ status: n === 0 ? 500 : 200 }));
    const { id } = await world.register(target.url);
    const event = sampleMailReceived();
    await world.publish(event);
    await target.until((got) => got.length >= 2, 15_000, 'the retry');
    const log = await world.waitFor(() => world.deliveries(id), (items) => items.length >= 2, 5_000, 'two attempts logged');
    expect(log.map((d) => [d.eventId, d.attempt, d.status, d.error])).toEqual([
      [event.id, 2, 200, null],
      [event.id, 1, 500, 'HTTP 500'],
    ]);
    // The delivered attempt ends the failing run just after its log row is written: wait for it, not read it once.
    await world.waitFor(() => world.endpoint(id), (endpoint) => endpoint.failingSince === null, 5_000, 'the failing run ended');
  });

  it.each([
    ['no answer within the timeout', { hang: true } as const, /no answer within 10000 ms/],
    ['a connection closed without an answer', { closeConnection: true } as const, /connection closed before an answer/],
  ])('retries after %s and logs why', async (_what, firstAnswer, reason) => {
    const target = await receiver();
    target.answerWith((_r, n) => (n === 0 ? firstAnswer : { status: 204 }));
    const { id } = await world.register(target.url);
    const event = sampleMailReceived();
    await world.publish(event);
    const log = await world.waitFor(() => world.deliveries(id), (items) => items.some((d) => d.status === 204), 20_000, 'the delivered retry');
    expect(log).toHaveLength(2);
    expect(log[1]).toMatchObject({ eventId: event.id, attempt: 1, status: null });
    expect(log[1].error).toMatch(reason);
  });

  it.each([
    ['503 with Retry-After in seconds', 503, () => '3', 3_000],
    // An HTTP date has whole seconds: 4 s ahead is at least 3 s ahead.
    ['429 with Retry-After as an HTTP date', 429, () => new Date(Date.now() + 4_000).toUTCString(), 3_000],
  ])('waits for the Retry-After of a %s before the next attempt (the backoff alone is 50 ms), and the log says so', async (_what, status, retryAfter, atLeastMs) => {
    const target = await receiver();
    target.answerWith((_r, n) => (n === 0 ? { status, headers: { 'retry-after': retryAfter() } } : { status: 200 }));
    const { id } = await world.register(target.url);
    const event = sampleMailReceived();
    await world.publish(event);
    await target.until((got) => got.length >= 2, 20_000, 'the attempt after the Retry-After');
    const [first, second] = target.of(event.id);
    expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(atLeastMs);
    const log = await world.waitFor(() => world.deliveries(id), (items) => items.length >= 2, 5_000, 'two attempts logged');
    expect(log.map((d) => [d.attempt, d.status])).toEqual([
      [2, 200],
      [1, status],
    ]);
    expect(log[1].error).toMatch(new RegExp(`^HTTP ${status}; Retry-After: next attempt in [34] s or later$`));
  });

  it('bounds a Retry-After by the delivery\'s 24 h window: one beyond it puts the next attempt at the window\'s end (the log says so)', async () => {
    const target = await receiver();
    target.answerWith(() => ({ status: 503, headers: { 'retry-after': String(48 * 3600) } }));
    const { id } = await world.register(target.url);
    await world.publish(sampleMailReceived());
    const [first] = await world.waitFor(() => world.deliveries(id), (items) => items.length >= 1, 15_000, 'the first attempt logged');
    expect(first.error).toBe('HTTP 503; Retry-After: next attempt in 86400 s or later');
    await world.api.http.delete(`/v1/webhooks/${id}`).set(world.api.auth).expect(204);
  });

  it('does not follow a redirect: a 3xx is a failed attempt with the reason', async () => {
    const target = await receiver();
    const elsewhere = await receiver();
    target.answerWith(() => ({ status: 302, location: elsewhere.url }));
    const { id } = await world.register(target.url);
    await world.publish(sampleMailReceived());
    const log = await world.waitFor(() => world.deliveries(id), (items) => items.length >= 2, 15_000, 'two failed attempts');
    expect(log[0]).toMatchObject({ status: 302 });
    expect(log[0].error).toBe(`HTTP 302 redirect to ${elsewhere.url} not followed (redirects are not followed: register the final URL)`);
    expect(elsewhere.received).toHaveLength(0);
    await world.api.http.patch(`/v1/webhooks/${id}`).set(world.api.auth).send({ enabled: false }).expect(200);
  });

  it('disables an endpoint answering 410 at once, with the reason', async () => {
    const target = await receiver();
    target.answerWith(() => ({ status: 410 }));
    const { id } = await world.register(target.url);
    await world.publish(sampleMailReceived());
    const endpoint = await world.waitFor(() => world.endpoint(id), (e) => e.enabled === false, 15_000, 'the endpoint disabled');
    expect(endpoint.disabledReason).toMatch(/^The endpoint answered 410 Gone at /);
    expect(target.received).toHaveLength(1);
    expect((await world.deliveries(id))[0]).toMatchObject({ attempt: 1, status: 410 });
  });

  it('disables an endpoint that failed for 24 h, with the reason; a retry after re-enabling delivers', async () => {
    const target = await receiver();
    target.answerWith(() => ({ status: 503 }));
    const { id } = await world.register(target.url);
    const event = sampleMailReceived();
    await world.publish(event);
    await target.until((got) => got.length >= 2, 15_000, 'two failed attempts');
    expect((await world.endpoint(id)).enabled).toBe(true);
    clock.advance(24 * 3600_000);
    const endpoint = await world.waitFor(() => world.endpoint(id), (e) => e.enabled === false, 15_000, 'the endpoint disabled');
    expect(endpoint.disabledReason).toMatch(/^Every delivery failed for 24 h \(since .*\); last error: HTTP 503$/);

    target.answerWith(() => ({ status: 200 }));
    await world.api.http.patch(`/v1/webhooks/${id}`).set(world.api.auth).send({ enabled: true }).expect(200);
    await world.syncWorkers();
    await world.api.http.post(`/v1/webhooks/${id}/deliveries/${event.id}/retry`).set(world.api.auth).expect(202);
    await target.until((got) => got.some((r) => r.id === event.id && got.indexOf(r) >= 2), 15_000, 'the retried delivery');
    const log = await world.waitFor(() => world.deliveries(id), (items) => items[0]?.status === 200, 5_000, 'the delivered retry logged');
    expect(log[0]).toMatchObject({ eventId: event.id, status: 200 });
    await world.api.http.post(`/v1/webhooks/${id}/deliveries/no-such-event/retry`).set(world.api.auth).expect(404);
  });

  it('an endpoint that hangs does not hold back a healthy one (each endpoint has its own queue and worker slots)', async () => {
    const stuck = await receiver();
    stuck.answerWith(() => ({ hang: true }));
    const healthy = await receiver();
    const stuckEndpoint = await world.register(stuck.url);
    await world.register(healthy.url);
    const events = Array.from({ length: 60 }, () => sampleMailReceived());
    await world.publish(...events);
    await healthy.until((got) => events.every((e) => got.some((r) => r.id === e.id)), 9_000, 'all 60 events at the healthy endpoint');
    // Every one arrived while the stuck endpoint's first calls were still waiting for their 10 s timeout.
    expect(await world.deliveries(stuckEndpoint.id)).toEqual([]);
    expect(stuck.received.length).toBeGreaterThan(0);
    await world.api.http.delete(`/v1/webhooks/${stuckEndpoint.id}`).set(world.api.auth).expect(204);
  });

  it("the delivering listener's /metrics has the webhook series and the queue depths, and promtool accepts it", async () => {
    const text = await (await fetch(`${world.listener!.url}/metrics`)).text();
    expect(text).toMatch(/^mail_listener_webhook_deliveries_total\{result="delivered",app="listener"\} [1-9]\d*$/m);
    expect(text).toMatch(/^mail_listener_webhook_deliveries_total\{result="gone",app="listener"\} [1-9]\d*$/m);
    expect(text).toMatch(/^mail_listener_webhook_delivery_seconds_count\{app="listener"\} [1-9]\d*$/m);
    expect(text).toMatch(/^mail_listener_webhook_backlog\{app="listener"\} \d+$/m);
    expect(text).toMatch(/^mail_listener_webhook_endpoints\{state="disabled",app="listener"\} [1-9]\d*$/m);
    expect(text).toMatch(/^mail_listener_webhook_endpoints\{state="healthy",app="listener"\} [1-9]\d*$/m);
    expect(text).toMatch(/^mail_listener_webhook_failing_seconds\{app="listener"\} [\d.e+]+$/m);
    for (const queue of ['mail-events', 'webhook-fanout', 'webhook-deliveries', 'graph-notifications']) {
      expect(text).toMatch(new RegExp(`^mail_listener_queue_jobs\\{queue="${queue}",state="completed",app="listener"\\} \\d+$`, 'm'));
    }
    expect(execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' }).trim()).toBe('');
  });
});
