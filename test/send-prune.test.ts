/**
 * Pruning old sends (SendPruner, real Postgres): sends final for longer than SEND_RETENTION_DAYS go with
 * their stored message; younger ones, and ones not final however old, stay; two replicas pruning at once
 * delete each send once (FOR UPDATE SKIP LOCKED) and count what they deleted. The clock is a hand-moved one.
 */
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { APP_CONFIG, AppConfig } from '@app/config';
import { OutboxRepository, PRUNE_BATCH, SendPruner } from '@app/sending';
import { ManualClock, metricValue, RunningApi, useApiSuite } from '@app/testing';
import { queryDatabase } from '../libs/testing/src/test-database';

const DAY = 86_400_000;

describe('pruning old sends', () => {
  const suite = useApiSuite({ SEND_RETENTION_DAYS: '7' });
  let api: RunningApi;
  let mailbox: string;
  let repository: OutboxRepository;
  let config: AppConfig;

  const sql = <T extends Record<string, unknown>>(text: string, params: unknown[] = []) => queryDatabase<T>(suite.db.url, text, params);
  const now = Date.now();

  /** A stored send (content included) in `state`, last changed `ageDays` before `now`. */
  async function send(state: 'queued' | 'sending' | 'sent' | 'failed', ageDays: number): Promise<string> {
    const res = await api.http.post(`/v1/mailboxes/${mailbox}/outbox`).set(api.auth).send({ to: ['ben@contoso.com'], subject: `${state} ${ageDays}`, text: 'x'.repeat(1000) }).expect(202);
    await sql(`UPDATE mail_sends SET state = $2, updated_at = $3 WHERE id = $1`, [res.body.id, state, new Date(now - ageDays * DAY)]);
    return res.body.id;
  }
  const exists = async (id: string) => (await sql(`SELECT 1 FROM mail_sends WHERE id = $1`, [id])).length === 1;
  const chunksOf = async (id: string) => Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM mail_send_chunks WHERE send_id = $1`, [id]))[0].n);

  beforeAll(async () => {
    api = suite.api;
    await api.http.post('/v1/providers').set(api.auth).send({ name: 'Sends', type: 'imap', host: 'mail.send.example', sendEmails: true, domains: ['send.example'] }).expect(201);
    mailbox = (await api.http.post('/v1/mailboxes').set(api.auth).send({ email: 'ana@send.example', password: 'pw' }).expect(201)).body.id;
    repository = api.app.get(OutboxRepository);
    config = api.app.get<AppConfig>(APP_CONFIG);
  });

  it('deletes sent and failed sends older than the retention with their content, and nothing else', async () => {
    const oldSent = await send('sent', 8);
    const oldFailed = await send('failed', 7.5);
    const youngSent = await send('sent', 6);
    const oldQueued = await send('queued', 30);
    const oldSending = await send('sending', 30);
    expect(await chunksOf(oldSent)).toBeGreaterThan(0);

    const registry = new Registry();
    const pruner = new SendPruner(repository, new ManualClock(now), config, registry);
    expect(await pruner.prune()).toBe(2);
    for (const id of [oldSent, oldFailed]) {
      expect(await exists(id)).toBe(false);
      expect(await chunksOf(id)).toBe(0);
    }
    for (const id of [youngSent, oldQueued, oldSending]) expect(await exists(id)).toBe(true);
    expect(await chunksOf(youngSent)).toBeGreaterThan(0);
    expect(metricValue(await registry.metrics(), 'mail_listener_sends_pruned_total', { state: 'sent' })).toBe(1);
    expect(metricValue(await registry.metrics(), 'mail_listener_sends_pruned_total', { state: 'failed' })).toBe(1);

    // Two days on, the young one is due too.
    expect(await new SendPruner(repository, new ManualClock(now + 2 * DAY), config, new Registry()).prune()).toBe(1);
    expect(await exists(youngSent)).toBe(false);
  });

  it('two replicas pruning at once delete every due send once, in batches', async () => {
    const due = PRUNE_BATCH * 2 + 17;
    const ids = Array.from({ length: due }, () => randomUUID());
    // Many rows at once by SQL (the API path is covered above): contents as one chunk each.
    await sql(
      `INSERT INTO mail_sends (id, mailbox_id, request_hash, state, message_id, envelope_from, envelope_to, size, updated_at)
       SELECT id, $2, 'h', 'sent', '<' || id || '@send.example>', 'ana@send.example', ARRAY['ben@contoso.com'], 1, $3 FROM unnest($1::uuid[]) AS id`,
      [ids, mailbox, new Date(now - 10 * DAY)],
    );
    await sql(`INSERT INTO mail_send_chunks (send_id, part, seq, data) SELECT id, 0, 0, '\\x41'::bytea FROM unnest($1::uuid[]) AS id`, [ids]);
    const registries = [new Registry(), new Registry()];
    const deleted = await Promise.all(registries.map((registry) => new SendPruner(repository, new ManualClock(now), config, registry).prune()));
    expect(deleted[0] + deleted[1]).toBe(due);
    const counted = await Promise.all(registries.map(async (registry) => metricValue(await registry.metrics(), 'mail_listener_sends_pruned_total', { state: 'sent' })));
    expect(counted.reduce((sum, n) => sum + n, 0)).toBe(due);
    expect(Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM mail_sends WHERE id = ANY($1::uuid[])`, [ids]))[0].n)).toBe(0);
    expect(Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM mail_send_chunks WHERE send_id = ANY($1::uuid[])`, [ids]))[0].n)).toBe(0);
  });
});
