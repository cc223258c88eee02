import { Injectable } from '@nestjs/common';
import { MailEvent } from '../mail-event.types';
import { SqlRunner } from '../sql-runner';
import { WebhookAudience } from '../webhook-audience';

/** All SQL of `event_outbox` but the one-statement writes that insert their events themselves (mailbox status, a send's outcome: OutboxRepository.recordSent/recordFailed). */
@Injectable()
export class EventOutboxRepository {
  /** Adds events in the caller's transaction; an event already waiting under the same id is kept. */
  async add(sql: SqlRunner, events: MailEvent[]): Promise<void> {
    if (events.length === 0) return;
    await sql.query(
      `INSERT INTO event_outbox (event_id, type, payload)
       SELECT v.id, v.type, v.payload FROM unnest($1::text[], $2::text[], $3::json[]) WITH ORDINALITY AS v(id, type, payload, ord) ORDER BY v.ord
       ON CONFLICT (event_id) DO NOTHING`,
      [events.map((e) => e.id), events.map((e) => e.type), events.map((e) => JSON.stringify(e))],
    );
  }

  /**
   * Takes up to `limit` of the oldest waiting events: deletes them inside the caller's transaction, whose
   * row locks keep other relays off them (SKIP LOCKED: they take the next ones instead of waiting). The
   * caller commits once the events are published, or rolls back and they wait again. The same statement
   * reads the webhook audience (the types enabled endpoints subscribe to, webhook_endpoints being the
   * webhooks' table, read here only), so an endpoint registered before the events were taken receives them.
   */
  async take(sql: SqlRunner, limit: number): Promise<{ events: MailEvent[]; audience: WebhookAudience }> {
    const rows: { payload: MailEvent; audience: string[] }[] = await sql.query(
      `WITH taken AS (
         DELETE FROM event_outbox WHERE seq IN (SELECT seq FROM event_outbox ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING seq, payload
       )
       SELECT t.payload, a.audience FROM taken t
       CROSS JOIN (SELECT COALESCE(array_agg(DISTINCT e.type), '{}') AS audience FROM webhook_endpoints w CROSS JOIN LATERAL unnest(w.events) AS e(type) WHERE w.enabled) a
       ORDER BY t.seq`,
      [limit],
    );
    return { events: rows.map((row) => row.payload), audience: rows[0]?.audience ?? [] };
  }

  /** How many events wait, and how long the oldest has waited (seconds by the database clock; 0 when none). */
  async backlog(sql: SqlRunner): Promise<{ waiting: number; oldestSeconds: number }> {
    const [row]: { n: number; oldest: number }[] = await sql.query(
      `SELECT count(*)::int AS n, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS oldest FROM event_outbox`,
    );
    return { waiting: row.n, oldestSeconds: Math.max(0, row.oldest) };
  }
}
