import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** A row of `webhook_endpoints` with its secrets still sealed. */
export interface WebhookEndpointRow {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  disabledReason: string | null;
  secretEncrypted: string;
  previousSecretEncrypted: string | null;
  previousSecretExpiresAt: Date | null;
  failingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** One attempt of the delivery log. */
export interface DeliveryAttempt {
  endpointId: string;
  eventId: string;
  eventType: string;
  attempt: number;
  status: number | null;
  error: string | null;
  durationMs: number;
  at: Date;
}

const COLUMNS = `id, url, events, description, enabled, disabled_reason AS "disabledReason", secret_encrypted AS "secretEncrypted",
  previous_secret_encrypted AS "previousSecretEncrypted", previous_secret_expires_at AS "previousSecretExpiresAt",
  failing_since AS "failingSince", created_at AS "createdAt", updated_at AS "updatedAt"`;

/** All SQL of the webhook endpoints and their delivery log. (TypeORM answers an UPDATE/DELETE … RETURNING as [rows, count].) */
@Injectable()
export class WebhooksRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(row: Pick<WebhookEndpointRow, 'id' | 'url' | 'events' | 'description' | 'enabled' | 'secretEncrypted'>, now: Date): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO webhook_endpoints (id, url, events, description, enabled, secret_encrypted, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
      [row.id, row.url, row.events, row.description, row.enabled, row.secretEncrypted, now],
    );
  }

  async find(id: string): Promise<WebhookEndpointRow | null> {
    const [row] = await this.dataSource.query(`SELECT ${COLUMNS} FROM webhook_endpoints WHERE id = $1`, [id]);
    return row ?? null;
  }

  async page(limit: number, offset: number): Promise<{ rows: WebhookEndpointRow[]; total: number }> {
    const rows: WebhookEndpointRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM webhook_endpoints ORDER BY created_at, id LIMIT $1 OFFSET $2`, [limit, offset]);
    const [{ total }] = await this.dataSource.query(`SELECT count(*)::int AS total FROM webhook_endpoints`);
    return { rows, total };
  }

  /** Every endpoint (the delivering processes keep them in memory, re-read every second). */
  all(): Promise<WebhookEndpointRow[]> {
    return this.dataSource.query(`SELECT ${COLUMNS} FROM webhook_endpoints`);
  }

  /** The enabled endpoints and their subscriptions, for the fan-out. */
  subscriptions(): Promise<{ id: string; events: string[] }[]> {
    return this.dataSource.query(`SELECT id, events FROM webhook_endpoints WHERE enabled`);
  }

  /** Changes the fields given; enabling clears the disabled reason and the failing run. Answers whether the row exists. */
  async update(id: string, change: { url?: string; events?: string[]; description?: string | null; enabled?: boolean }, now: Date): Promise<boolean> {
    const [rows] = await this.dataSource.query(
      `UPDATE webhook_endpoints SET
         url = COALESCE($2, url),
         events = COALESCE($3, events),
         description = CASE WHEN $4 THEN $5 ELSE description END,
         enabled = COALESCE($6, enabled),
         disabled_reason = CASE WHEN $6 IS NOT NULL THEN NULL ELSE disabled_reason END,
         failing_since = CASE WHEN $6 THEN NULL ELSE failing_since END,
         updated_at = $7
       WHERE id = $1 RETURNING id`,
      [id, change.url ?? null, change.events ?? null, change.description !== undefined, change.description ?? null, change.enabled ?? null, now],
    );
    return rows.length > 0;
  }

  /** Answers whether a row was deleted (its delivery log goes with it: ON DELETE CASCADE). */
  async delete(id: string): Promise<boolean> {
    const [rows] = await this.dataSource.query(`DELETE FROM webhook_endpoints WHERE id = $1 RETURNING id`, [id]);
    return rows.length > 0;
  }

  /** The new secret signs from now; the one it replaces keeps signing until `previousExpiresAt`. */
  async rotate(id: string, sealed: { secret: string; previous: string }, previousExpiresAt: Date, now: Date): Promise<boolean> {
    const [rows] = await this.dataSource.query(
      `UPDATE webhook_endpoints SET secret_encrypted = $2, previous_secret_encrypted = $3, previous_secret_expires_at = $4, updated_at = $5 WHERE id = $1 RETURNING id`,
      [id, sealed.secret, sealed.previous, previousExpiresAt, now],
    );
    return rows.length > 0;
  }

  /** A failed attempt: starts the failing run if none is going on. Answers when the run started (null: the endpoint is gone). */
  async markFailing(id: string, now: Date): Promise<Date | null> {
    const [[row]] = await this.dataSource.query(`UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $2) WHERE id = $1 RETURNING failing_since AS "failingSince"`, [id, now]);
    return row?.failingSince ?? null;
  }

  /** A delivered attempt ends the failing run. */
  async clearFailing(id: string): Promise<void> {
    await this.dataSource.query(`UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL`, [id]);
  }

  /** Disables an enabled endpoint with the reason; answers whether this call did it. */
  async disable(id: string, reason: string, now: Date): Promise<boolean> {
    const [rows] = await this.dataSource.query(`UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, updated_at = $3 WHERE id = $1 AND enabled RETURNING id`, [id, reason, now]);
    return rows.length > 0;
  }

  /** Endpoints by state (healthy, failing: enabled with a failing run on, disabled), and when the longest failing run began. */
  async countByState(): Promise<{ healthy: number; failing: number; disabled: number; failingSince: Date | null }> {
    const [row] = await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE enabled AND failing_since IS NULL)::int AS healthy,
              count(*) FILTER (WHERE enabled AND failing_since IS NOT NULL)::int AS failing,
              count(*) FILTER (WHERE NOT enabled)::int AS disabled,
              min(failing_since) FILTER (WHERE enabled) AS "failingSince"
       FROM webhook_endpoints`,
    );
    return row;
  }

  /** Appends attempts to the log in one statement (a busy process logs thousands a second). */
  async logAttempts(attempts: DeliveryAttempt[]): Promise<void> {
    if (attempts.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, attempt, status, error, duration_ms, at)
       SELECT e.id, a.event_id, a.event_type, a.attempt, a.status, a.error, a.duration_ms, a.at
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::int[], $6::text[], $7::int[], $8::timestamptz[])
         AS a(endpoint_id, event_id, event_type, attempt, status, error, duration_ms, at)
       JOIN webhook_endpoints e ON e.id = a.endpoint_id`,
      [
        attempts.map((a) => a.endpointId),
        attempts.map((a) => a.eventId),
        attempts.map((a) => a.eventType),
        attempts.map((a) => a.attempt),
        attempts.map((a) => a.status),
        attempts.map((a) => a.error),
        attempts.map((a) => a.durationMs),
        attempts.map((a) => a.at),
      ],
    );
  }

  /** The latest attempts of an endpoint, newest first. */
  latestAttempts(endpointId: string, limit: number): Promise<Omit<DeliveryAttempt, 'endpointId'>[]> {
    return this.dataSource.query(
      `SELECT event_id AS "eventId", event_type AS "eventType", attempt, status, error, duration_ms AS "durationMs", at
       FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY seq DESC LIMIT $2`,
      [endpointId, limit],
    );
  }

  /** Forgets attempts older than `before`. */
  async pruneAttempts(before: Date): Promise<void> {
    await this.dataSource.query(`DELETE FROM webhook_deliveries WHERE at < $1`, [before]);
  }
}
