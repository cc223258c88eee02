import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { MailEvent, SqlRunner } from '@app/events';
import { encryptedPasswordColumn, MAILBOX_SPEC_COLUMNS, MailboxSpecRow, mailboxSpecSubquery } from '@app/sync';
import { SendEvent, SendState, statesTaking, targetOf } from './send-state';
import { SentCopyState } from './sent-copy/sent-copy-state';
import { SentCopyRepository } from './sent-copy/sent-copy.repository';
import type { SendStatusWrite } from './mailbox-send-status.repository';
import { MESSAGE_PART, SendContentRepository } from './storage/send-content.repository';

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
export interface SendTargetRow extends Omit<SendingContextRow, 'token_state'> {
  /** The metrics' `provider` label. */
  provider_id: string;
  smtp_host: string | null;
  smtp_port: number | null;
  smtp_security: 'tls' | 'starttls' | 'none' | null;
  verify_certificate: boolean;
  append_to_sent: boolean;
}

/** What beginAttempt read. */
export interface BegunAttempt {
  send: SendRow;
  started: boolean;
  target: SendTargetRow | null;
  /**
   * For an SMTP attempt about to run (see beginAttempt), else null: the mailbox's spec row, the message's
   * first chunks (null: the send has no content) and, for a password login, the encrypted password (null:
   * none stored; undefined for OAuth).
   */
  smtp: { spec: MailboxSpecRow; head: Buffer | null; passwordEncrypted?: string | null } | null;
}

/** A send whose content is already in `mail_send_chunks` (written in the same transaction). */
export interface NewSend {
  id: string;
  mailboxId: string;
  idempotencyKey: string | null;
  requestHash: string;
  messageId: string;
  envelope: { from: string; to: string[] };
  /** The stored message's bytes. */
  size: number;
}

/** Sends removed by one pruning batch, by final state. */
export type PrunedSends = Partial<Record<'sent' | 'failed', number>>;

export interface SendError {
  code: string;
  message: string;
}

const COLUMNS = `id, mailbox_id, idempotency_key, request_hash, state, message_id, envelope_from, envelope_to, size, attempts, in_flight_since,
  last_error_code, last_error_message, last_error_at, response, sent_at, created_at, updated_at, sent_copy_state, sent_copy_folder, sent_copy_error`;

/** COLUMNS of `current cur` (beginAttempt; not `s`, which the spec subquery uses for itself). */
const CUR_COLUMNS = COLUMNS.replace(/(\w+)/g, 'cur.$1');

/** Thrown inside insert's transaction to roll it back when the key names another send. */
const ROLLBACK = Symbol('rollback');

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

  async sendTarget(mailboxId: string): Promise<SendTargetRow | null> {
    const [row] = (await this.dataSource.query(
      `SELECT m.id AS mailbox_id, m.email, m.external_id, m.enabled, m.provider_id, p.type AS provider_type, p.send_emails, p.auth_method,
              p.smtp_host, p.smtp_port, p.smtp_security::text AS smtp_security, p.verify_certificate, p.append_to_sent
         FROM mailboxes m JOIN providers p ON p.id = m.provider_id
        WHERE m.id = $1`,
      [mailboxId],
    )) as SendTargetRow[];
    return row ?? null;
  }

  /**
   * A run's first statement: counts an attempt of a `queued` send (whether or not it gets as far as the
   * server) and reads the send and
   * where its mailbox sends (the target is read at each attempt: settings may have changed since the send
   * was queued), in one round trip. `started`: the attempt was counted (the send was queued); otherwise
   * `send` is the row as it is (sending, sent, failed). `target` is null when the mailbox is gone.
   * For an SMTP attempt about to run (started, an IMAP provider that may send with SMTP settings, the
   * mailbox enabled) the same statement reads the mailbox's spec row (its login and credential), its
   * encrypted password (a password login) and the message's first chunks (`head`, up to 1 MiB; null when the send has no content: it fails before the
   * hand-over mark, as before), so a message of up to 1 MiB costs no read of its own (attemptContent).
   */
  async beginAttempt(sendId: string): Promise<BegunAttempt | null> {
    const smtpAttempt = `cur.started AND p.type = 'imap' AND p.send_emails AND m.enabled AND p.smtp_host IS NOT NULL`;
    const [row] = (await this.dataSource.query(
      `WITH started AS (
         UPDATE mail_sends SET attempts = attempts + 1, updated_at = now() WHERE id = $1 AND state = 'queued' RETURNING ${COLUMNS}
       ), current AS (
         SELECT ${COLUMNS}, true AS started FROM started
         UNION ALL
         SELECT ${COLUMNS}, false AS started FROM mail_sends WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM started)
       )
       SELECT ${CUR_COLUMNS}, cur.started,
              m.id AS t_mailbox_id, m.email AS t_email, m.external_id AS t_external_id, m.enabled AS t_enabled, m.provider_id AS t_provider_id,
              p.type AS t_provider_type, p.send_emails AS t_send_emails, p.auth_method AS t_auth_method, p.smtp_host AS t_smtp_host, p.smtp_port AS t_smtp_port,
              p.smtp_security::text AS t_smtp_security, p.verify_certificate AS t_verify_certificate, p.append_to_sent AS t_append_to_sent,
              ${MAILBOX_SPEC_COLUMNS.map((column) => `CASE WHEN ${smtpAttempt} THEN sp.${column} END AS sp_${column}`).join(', ')},
              CASE WHEN ${smtpAttempt} THEN ${SendContentRepository.headColumn('cur.id', MESSAGE_PART)} END AS head_base64,
              CASE WHEN ${smtpAttempt} AND p.auth_method = 'basic' THEN ${encryptedPasswordColumn('cur.mailbox_id')} END AS password_encrypted
         FROM current cur LEFT JOIN mailboxes m ON m.id = cur.mailbox_id LEFT JOIN providers p ON p.id = m.provider_id
         LEFT JOIN LATERAL (${mailboxSpecSubquery('cur.mailbox_id')}) sp ON true`,
      [sendId],
    )) as Record<string, unknown>[];
    if (!row) return null;
    const send: Record<string, unknown> = {};
    const target: Record<string, unknown> = {};
    const spec: Record<string, unknown> = {};
    for (const [column, value] of Object.entries(row)) {
      if (column.startsWith('t_')) target[column.slice(2)] = value;
      else if (column.startsWith('sp_')) spec[column.slice(3)] = value;
      else if (column !== 'started' && column !== 'head_base64' && column !== 'password_encrypted') send[column] = value;
    }
    return {
      send: send as unknown as SendRow,
      started: row.started === true,
      target: target.mailbox_id == null ? null : (target as unknown as SendTargetRow),
      smtp:
        spec.id == null
          ? null
          : {
              spec: spec as unknown as MailboxSpecRow,
              head: SendContentRepository.headFromColumn(row.head_base64 as string | null),
              ...(target.auth_method === 'basic' ? { passwordEncrypted: row.password_encrypted as string | null } : {}),
            },
    };
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
   * Runs `work` in one transaction whose SqlRunner it is given (the intake streams the content into it and
   * inserts the send last: nothing of a send that fails halfway is ever committed). A throw rolls it back.
   */
  async transaction<T>(work: (sql: SqlRunner) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((manager) => work(manager));
  }

  /**
   * Inserts a new send whose content `sql`'s transaction already holds. With an Idempotency-Key, a key
   * older than 24 h is released first; when another request stored the same key meanwhile, that send is
   * returned (`created: false`): the caller then rolls back.
   */
  async insertStored(sql: SqlRunner, send: NewSend): Promise<{ created: boolean; row: SendRow }> {
    if (send.idempotencyKey !== null) {
      await sql.query(`UPDATE mail_sends SET idempotency_key = NULL WHERE mailbox_id = $1 AND idempotency_key = $2 AND created_at <= now() - ${KEY_TTL}`, [
        send.mailboxId,
        send.idempotencyKey,
      ]);
    }
    const inserted = (await sql.query(
      `INSERT INTO mail_sends (id, mailbox_id, idempotency_key, request_hash, message_id, envelope_from, envelope_to, size)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (mailbox_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING ${COLUMNS}`,
      [send.id, send.mailboxId, send.idempotencyKey, send.requestHash, send.messageId, send.envelope.from, send.envelope.to, send.size],
    )) as SendRow[];
    if (inserted.length > 0) return { created: true, row: inserted[0] };
    const [existing] = (await sql.query(`SELECT ${COLUMNS} FROM mail_sends WHERE mailbox_id = $1 AND idempotency_key = $2`, [send.mailboxId, send.idempotencyKey])) as SendRow[];
    return { created: false, row: existing };
  }

  /**
   * Stores a send whose content is at hand whole, in one transaction (tests, tools; the API streams:
   * insertStored). `created: false` as insertStored, and then nothing is written.
   */
  async insert(send: Omit<NewSend, 'size'> & { raw: Buffer }): Promise<{ created: boolean; row: SendRow }> {
    let replay: SendRow | null = null;
    const stored = await this.transaction(async (sql) => {
      const writer = SendContentRepository.writer(sql, send.id, MESSAGE_PART);
      await new Promise<void>((resolve, reject) => writer.once('error', reject).end(send.raw, () => resolve()));
      const result = await this.insertStored(sql, { ...send, size: send.raw.length });
      if (!result.created) {
        replay = result.row;
        throw ROLLBACK;
      }
      return result;
    }).catch((error: unknown) => {
      if (error === ROLLBACK && replay) return { created: false, row: replay as SendRow };
      throw error;
    });
    return stored;
  }

  /** The message whole (callers that need a Buffer); null when the send has no content (gone, or pruned). */
  async content(sendId: string): Promise<Buffer | null> {
    return SendContentRepository.whole(this.dataSource, sendId, MESSAGE_PART);
  }

  /**
   * The message of an SMTP attempt from the head beginAttempt read: the head itself when it is the whole
   * message (`size` bytes), else a stream that gives the head and then reads the rest, 1 MiB at a time,
   * as SMTP takes it (opened at the hand-over: a large message is never held whole).
   */
  attemptContent(send: Pick<SendRow, 'id' | 'size'>, head: Buffer): Buffer | (() => Readable) {
    if (head.length >= send.size) return head;
    return () => SendContentRepository.reader(this.dataSource, send.id, MESSAGE_PART, head);
  }

  /** The message as a stream of its chunks in order, never held whole; fails when it has none or one is missing. */
  contentStream(sendId: string): Readable {
    return SendContentRepository.reader(this.dataSource, sendId, MESSAGE_PART);
  }

  /**
   * Deletes up to `limit` sends final (sent or failed) since before `before`, their contents with them
   * (ON DELETE CASCADE). FOR UPDATE SKIP LOCKED: pruners of other replicas take other rows instead of
   * waiting on these, and a row being changed right now is left for the next round.
   */
  async pruneFinal(before: Date, limit: number): Promise<PrunedSends> {
    const rows = (await this.dataSource.query(
      `WITH doomed AS (
         SELECT id FROM mail_sends WHERE state IN ('sent', 'failed') AND updated_at < $1 ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED
       )
       DELETE FROM mail_sends s USING doomed WHERE s.id = doomed.id RETURNING s.state::text AS state`,
      [before, limit],
    )) as [{ state: 'sent' | 'failed' }[], number] | { state: 'sent' | 'failed' }[];
    const deleted = Array.isArray(rows[0]) ? (rows as [{ state: 'sent' | 'failed' }[], number])[0] : (rows as { state: 'sent' | 'failed' }[]);
    const counts: PrunedSends = {};
    for (const row of deleted) counts[row.state] = (counts[row.state] ?? 0) + 1;
    return counts;
  }

  /** Logged in, about to hand the message over: committed before MAIL FROM (see send-attempt.ts). */
  async markInFlight(sendId: string): Promise<boolean> {
    return this.transition(this.dataSource, sendId, 'in_flight', `in_flight_since = now()`, []);
  }

  /**
   * Records `sent` and what goes with it in ONE statement (no transaction of four): the row, its
   * `mail.sent` queued in `event_outbox` (the transactional outbox: both or neither), the Sent copy marked
   * `not_needed` when the provider keeps its own (`skipSentCopy`), and the mailbox's send status
   * (`status`). `sentAt` is the row's `sent_at` and the event's (built before the statement, so it is
   * given, not the database's now()). Null when the send was not `sending` (nothing is written).
   */
  async recordSent(sendId: string, outcome: { response: string | null; sentAt: Date; event: MailEvent; skipSentCopy: boolean; status: SendStatusWrite | null }): Promise<SendRow | null> {
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    const skip = outcome.skipSentCopy ? `, ${SentCopyRepository.skipWithSent(param)}` : '';
    return this.recordOutcome(
      `UPDATE mail_sends SET state = '${targetOf('accepted')}', sent_at = ${param(outcome.sentAt)}::timestamptz, in_flight_since = NULL, response = ${param(outcome.response)}, updated_at = now()${skip}
        WHERE id = ${param(sendId)} AND state = ANY(${param(statesTaking('accepted'))}::send_state[]) RETURNING ${COLUMNS}`,
      param,
      params,
      outcome,
    );
  }

  async markRetry(sendId: string, error: SendError): Promise<boolean> {
    return this.transition(this.dataSource, sendId, 'retry', `in_flight_since = NULL, last_error_code = $3, last_error_message = $4, last_error_at = now()`, [error.code, error.message]);
  }

  /** Records `failed` as recordSent records `sent`: the row, its `mail.send_failed` and the mailbox's send status in one statement. */
  async recordFailed(sendId: string, outcome: { error: SendError; event: MailEvent; status: SendStatusWrite | null }): Promise<SendRow | null> {
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    return this.recordOutcome(
      `UPDATE mail_sends SET state = '${targetOf('give_up')}', in_flight_since = NULL, last_error_code = ${param(outcome.error.code)}, last_error_message = ${param(outcome.error.message)},
              last_error_at = now(), updated_at = now()
        WHERE id = ${param(sendId)} AND state = ANY(${param(statesTaking('give_up'))}::send_state[]) RETURNING ${COLUMNS}`,
      param,
      params,
      outcome,
    );
  }

  /**
   * `update` (RETURNING the row) as the CTE `written`; the event is queued and the status written only when
   * it wrote a row (data-modifying CTEs all run, each over what `written` returned). The event goes in as
   * json text, kept exactly as built (as EventOutboxRepository.add and the mailbox status writes do).
   */
  private async recordOutcome(update: string, param: (value: unknown) => string, params: unknown[], outcome: { event: MailEvent; status: SendStatusWrite | null }): Promise<SendRow | null> {
    const { event, status } = outcome;
    const rows = (await this.dataSource.query(
      `WITH written AS (
         ${update}
       ), queued AS (
         INSERT INTO event_outbox (event_id, type, payload) SELECT ${param(event.id)}::text, ${param(event.type)}::text, ${param(JSON.stringify(event))}::json FROM written
         ON CONFLICT (event_id) DO NOTHING
       )${status ? `, status AS (${status.cte('written', param)})` : ''}
       SELECT ${COLUMNS} FROM written`,
      params,
    )) as SendRow[];
    const row = rows[0] ?? null;
    if (row) status?.recorded();
    return row;
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
