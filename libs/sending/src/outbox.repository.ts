import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SqlRunner } from '@app/events';
import { SendEvent, SendState, statesTaking, targetOf } from './send-state';
import { SentCopyState } from './sent-copy/sent-copy-state';

/** A send's row as the API and the worker read it. */
export interface SendRow {
  id: string;
  mailbox_id: string;
  idempotency_key: string | null;
  request_hash: string;
  state: SendState;
  message_id: string;
  envelope_from: string;
  envelope_to: string[];
  size: number;
  attempts: number;
  in_flight_since: Date | null;
  last_error_code: string | null;
  last_error_message: string | null;
  last_error_at: Date | null;
  response: string | null;
  sent_at: Date | null;
  created_at: Date;
  updated_at: Date;
  /** The copy in the Sent folder (sent-copy/; written by SentCopyRepository). */
  sent_copy_state: SentCopyState;
  sent_copy_folder: string | null;
  sent_copy_error: string | null;
}

/** What decides whether a mailbox may send now, and how. */
export interface SendingContextRow {
  mailbox_id: string;
  email: string;
  external_id: string | null;
  enabled: boolean;
  provider_type: 'imap' | 'microsoft-graph';
  send_emails: boolean;
  auth_method: 'basic' | 'oauth2';
  token_state: string | null;
}

/** Where and how a mailbox sends, read at each attempt (settings may have changed since the send was queued). */
export interface SmtpTargetRow extends Omit<SendingContextRow, 'token_state'> {
  /** The metrics' `provider` label. */
  provider_id: string;
  smtp_host: string | null;
  smtp_port: number | null;
  smtp_security: 'tls' | 'starttls' | 'none' | null;
  verify_certificate: boolean;
  append_to_sent: boolean;
}

export interface NewSend {
  id: string;
  mailboxId: string;
  idempotencyKey: string | null;
  requestHash: string;
  messageId: string;
  envelope: { from: string; to: string[] };
  raw: Buffer;
}

export interface SendError {
  code: string;
  message: string;
}

const COLUMNS = `id, mailbox_id, idempotency_key, request_hash, state, message_id, envelope_from, envelope_to, size, attempts, in_flight_since,
  last_error_code, last_error_message, last_error_at, response, sent_at, created_at, updated_at, sent_copy_state, sent_copy_folder, sent_copy_error`;

/** How long an Idempotency-Key names its send. */
const KEY_TTL = `interval '24 hours'`;

/** All SQL of the outbox. Every state change is conditional on the states its event applies to (send-state.ts). */
@Injectable()
export class OutboxRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async sendingContext(mailboxId: string): Promise<SendingContextRow | null> {
    const [row] = (await this.dataSource.query(
      `SELECT m.id AS mailbox_id, m.email, m.external_id, m.enabled, p.type AS provider_type, p.send_emails, p.auth_method,
              coalesce(t.state, a.state)::text AS token_state
         FROM mailboxes m
         JOIN providers p ON p.id = m.provider_id
         LEFT JOIN oauth_tokens t ON t.mailbox_id = m.id
         LEFT JOIN oauth_tokens a ON p.oauth_app_only AND a.provider_id = p.id AND a.mailbox_id IS NULL
        WHERE m.id = $1`,
      [mailboxId],
    )) as SendingContextRow[];
    return row ?? null;
  }

  async smtpTarget(mailboxId: string): Promise<SmtpTargetRow | null> {
    const [row] = (await this.dataSource.query(
      `SELECT m.id AS mailbox_id, m.email, m.external_id, m.enabled, m.provider_id, p.type AS provider_type, p.send_emails, p.auth_method,
              p.smtp_host, p.smtp_port, p.smtp_security::text AS smtp_security, p.verify_certificate, p.append_to_sent
         FROM mailboxes m JOIN providers p ON p.id = m.provider_id
        WHERE m.id = $1`,
      [mailboxId],
    )) as SmtpTargetRow[];
    return row ?? null;
  }

  async byIdempotencyKey(mailboxId: string, key: string): Promise<SendRow | null> {
    const [row] = (await this.dataSource.query(
      `SELECT ${COLUMNS} FROM mail_sends WHERE mailbox_id = $1 AND idempotency_key = $2 AND created_at > now() - ${KEY_TTL}`,
      [mailboxId, key],
    )) as SendRow[];
    return row ?? null;
  }

  async get(mailboxId: string, sendId: string): Promise<SendRow | null> {
    const [row] = (await this.dataSource.query(`SELECT ${COLUMNS} FROM mail_sends WHERE id = $1 AND mailbox_id = $2`, [sendId, mailboxId])) as SendRow[];
    return row ?? null;
  }

  async byId(sendId: string): Promise<SendRow | null> {
    const [row] = (await this.dataSource.query(`SELECT ${COLUMNS} FROM mail_sends WHERE id = $1`, [sendId])) as SendRow[];
    return row ?? null;
  }

  /**
   * Stores a new send with its content in one transaction. With an Idempotency-Key, a key older than 24 h
   * is released first; when another request stored the same key meanwhile, that send is returned instead
   * (`created: false`) and nothing is written.
   */
  async insert(send: NewSend): Promise<{ created: boolean; row: SendRow }> {
    return this.dataSource.transaction(async (manager) => {
      if (send.idempotencyKey !== null) {
        await manager.query(
          `UPDATE mail_sends SET idempotency_key = NULL WHERE mailbox_id = $1 AND idempotency_key = $2 AND created_at <= now() - ${KEY_TTL}`,
          [send.mailboxId, send.idempotencyKey],
        );
      }
      const inserted = (await manager.query(
        `INSERT INTO mail_sends (id, mailbox_id, idempotency_key, request_hash, message_id, envelope_from, envelope_to, size)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (mailbox_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
         RETURNING ${COLUMNS}`,
        [send.id, send.mailboxId, send.idempotencyKey, send.requestHash, send.messageId, send.envelope.from, send.envelope.to, send.raw.length],
      )) as SendRow[];
      if (inserted.length === 0) {
        const [existing] = (await manager.query(`SELECT ${COLUMNS} FROM mail_sends WHERE mailbox_id = $1 AND idempotency_key = $2`, [
          send.mailboxId,
          send.idempotencyKey,
        ])) as SendRow[];
        return { created: false, row: existing };
      }
      await manager.query(`INSERT INTO mail_send_contents (send_id, raw) VALUES ($1, $2)`, [send.id, send.raw]);
      return { created: true, row: inserted[0] };
    });
  }

  async content(sendId: string): Promise<Buffer | null> {
    const [row] = (await this.dataSource.query(`SELECT raw FROM mail_send_contents WHERE send_id = $1`, [sendId])) as { raw: Buffer }[];
    return row?.raw ?? null;
  }

  /** An attempt begins (counted whether or not it gets as far as the server). */
  async startAttempt(sendId: string): Promise<SendRow | null> {
    const [row] = (await this.dataSource.query(
      `UPDATE mail_sends SET attempts = attempts + 1, updated_at = now() WHERE id = $1 AND state = 'queued' RETURNING ${COLUMNS}`,
      [sendId],
    )) as [SendRow[], number];
    return firstOf(row);
  }

  /** Logged in, about to hand the message over: committed before MAIL FROM (see send-attempt.ts). */
  async markInFlight(sendId: string): Promise<boolean> {
    return this.transition(this.dataSource, sendId, 'in_flight', `in_flight_since = now()`, []);
  }

  async markSent(sql: SqlRunner, sendId: string, response: string | null): Promise<SendRow | null> {
    const result = (await sql.query(
      `UPDATE mail_sends SET state = '${targetOf('accepted')}', sent_at = now(), in_flight_since = NULL, response = $2, updated_at = now()
        WHERE id = $1 AND state = ANY($3::send_state[]) RETURNING ${COLUMNS}`,
      [sendId, response, statesTaking('accepted')],
    )) as [SendRow[], number];
    return firstOf(result);
  }

  async markRetry(sendId: string, error: SendError): Promise<boolean> {
    return this.transition(this.dataSource, sendId, 'retry', `in_flight_since = NULL, last_error_code = $3, last_error_message = $4, last_error_at = now()`, [error.code, error.message]);
  }

  async markFailed(sql: SqlRunner, sendId: string, error: SendError): Promise<SendRow | null> {
    const result = (await sql.query(
      `UPDATE mail_sends SET state = '${targetOf('give_up')}', in_flight_since = NULL, last_error_code = $3, last_error_message = $4, last_error_at = now(), updated_at = now()
        WHERE id = $1 AND state = ANY($2::send_state[]) RETURNING ${COLUMNS}`,
      [sendId, statesTaking('give_up'), error.code, error.message],
    )) as [SendRow[], number];
    return firstOf(result);
  }

  /** Sends not final, by state (the outbox depth gauge; the partial index ix_mail_sends_pending covers them). */
  async pendingByState(): Promise<Map<string, number>> {
    const rows = (await this.dataSource.query(
      `SELECT state::text AS state, count(*)::int AS n FROM mail_sends WHERE state IN ('queued', 'sending') GROUP BY state`,
    )) as { state: string; n: number }[];
    return new Map(rows.map((row) => [row.state, row.n]));
  }

  /** Queued sends not touched for `olderThanMs`: their job may never have been added (the API stopped in between). */
  async stale(olderThanMs: number, limit = 500): Promise<{ id: string; created_at: Date }[]> {
    return this.dataSource.query(
      `SELECT id, created_at FROM mail_sends WHERE state = 'queued' AND updated_at < now() - ($1::double precision * interval '1 millisecond') ORDER BY updated_at LIMIT $2`,
      [olderThanMs, limit],
    );
  }

  private async transition(sql: SqlRunner, sendId: string, event: SendEvent, set: string, params: unknown[]): Promise<boolean> {
    const result = (await sql.query(`UPDATE mail_sends SET state = '${targetOf(event)}', ${set}, updated_at = now() WHERE id = $1 AND state = ANY($2::send_state[])`, [
      sendId,
      statesTaking(event),
      ...params,
    ])) as [unknown, number];
    return result[1] > 0;
  }
}

/** pg's UPDATE … RETURNING through TypeORM answers [rows, count]. */
function firstOf(result: [SendRow[], number] | SendRow[]): SendRow | null {
  const rows = Array.isArray(result[0]) ? (result as [SendRow[], number])[0] : (result as SendRow[]);
  return rows[0] ?? null;
}
