import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SentCopyEvent, sentCopyStatesTaking, sentCopyTargetOf } from './sent-copy-state';

/** A copy a worker holds: what it appends, and where an earlier holder may already have put it. */
export interface ClaimedSentCopy {
  id: string;
  mailbox_id: string;
  message_id: string;
  sent_copy_attempts: number;
  /** Set when an earlier try got as far as choosing the folder: its APPEND may have landed. */
  sent_copy_folder: string | null;
}

/**
 * All SQL of the Sent copy (columns `sent_copy_*` of `mail_sends`). Every change is conditional on the send
 * being `sent` and on the states its event applies to (sent-copy-state.ts), so two workers never both hold
 * one copy and a copy never leaves a final state.
 */
@Injectable()
export class SentCopyRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Sent sends whose copy is due: pending and due, or held by a worker whose time ran out. */
  async due(limit = 100): Promise<string[]> {
    const rows = (await this.dataSource.query(
      `SELECT id FROM mail_sends
        WHERE state = 'sent' AND sent_copy_state IN ('pending', 'appending') AND (sent_copy_next_at IS NULL OR sent_copy_next_at <= now())
        ORDER BY sent_copy_next_at NULLS FIRST LIMIT $1`,
      [limit],
    )) as { id: string }[];
    return rows.map((row) => row.id);
  }

  /** The provider keeps its own copy. */
  async skip(sendId: string): Promise<boolean> {
    return this.transition(sendId, 'skip', `sent_copy_next_at = NULL`, []);
  }

  /**
   * The `skip` as SET clauses of the statement that records a send `sent` (OutboxRepository.recordSent):
   * a provider that keeps its own copy costs no statement of its own. `param` numbers the parameters.
   */
  static skipWithSent(param: (value: unknown) => string): string {
    const skippable = `sent_copy_state = ANY(${param(sentCopyStatesTaking('skip'))}::sent_copy_state[])`;
    return `sent_copy_state = CASE WHEN ${skippable} THEN '${sentCopyTargetOf('skip')}'::sent_copy_state ELSE sent_copy_state END,
            sent_copy_next_at = CASE WHEN ${skippable} THEN NULL ELSE sent_copy_next_at END`;
  }

  /** Takes the copy for `holdMs` (null: someone else holds it, it is not due, or it is final). */
  async claim(sendId: string, holdMs: number): Promise<ClaimedSentCopy | null> {
    const result = (await this.dataSource.query(
      `UPDATE mail_sends SET sent_copy_state = '${sentCopyTargetOf('claim')}', sent_copy_attempts = sent_copy_attempts + 1,
              sent_copy_next_at = now() + ($3::double precision * interval '1 millisecond')
        WHERE id = $1 AND state = 'sent' AND sent_copy_state = ANY($2::sent_copy_state[]) AND (sent_copy_next_at IS NULL OR sent_copy_next_at <= now())
        RETURNING id, mailbox_id, message_id, sent_copy_attempts, sent_copy_folder`,
      [sendId, sentCopyStatesTaking('claim'), holdMs],
    )) as [ClaimedSentCopy[], number];
    return result[0][0] ?? null;
  }

  /**
   * The folder the copy goes to, committed before the APPEND: the listener of that folder, which can only
   * see the message after the APPEND, then always finds the send (by UID once recorded, else by Message-ID).
   */
  async chooseFolder(sendId: string, folder: string): Promise<boolean> {
    return this.transitionFrom(sendId, ['appending'], `sent_copy_folder = $3, sent_copy_uidvalidity = NULL, sent_copy_uid = NULL`, [folder]);
  }

  /** In the folder; `uid` from APPENDUID (null when the server has no UIDPLUS). */
  async appended(sendId: string, folder: string, uidValidity: number | null, uid: number | null): Promise<boolean> {
    return this.transition(sendId, 'appended', `sent_copy_folder = $3, sent_copy_uidvalidity = $4, sent_copy_uid = $5, sent_copy_error = NULL, sent_copy_next_at = NULL`, [
      folder,
      uidValidity,
      uid,
    ]);
  }

  async retry(sendId: string, error: string, delayMs: number): Promise<boolean> {
    return this.transition(sendId, 'retry', `sent_copy_error = $3, sent_copy_next_at = now() + ($4::double precision * interval '1 millisecond')`, [error, delayMs]);
  }

  async giveUp(sendId: string, error: string): Promise<boolean> {
    return this.transition(sendId, 'give_up', `sent_copy_error = $3, sent_copy_next_at = NULL`, [error]);
  }

  private transition(sendId: string, event: SentCopyEvent, set: string, params: unknown[]): Promise<boolean> {
    return this.transitionFrom(sendId, sentCopyStatesTaking(event), `sent_copy_state = '${sentCopyTargetOf(event)}', ${set}`, params);
  }

  private async transitionFrom(sendId: string, from: string[], set: string, params: unknown[]): Promise<boolean> {
    const result = (await this.dataSource.query(`UPDATE mail_sends SET ${set} WHERE id = $1 AND state = 'sent' AND sent_copy_state = ANY($2::sent_copy_state[])`, [
      sendId,
      from,
      ...params,
    ])) as [unknown, number];
    return result[1] > 0;
  }
}
