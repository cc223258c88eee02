import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@app/config';
import { FailureCode } from '@app/failures';
import { Inject } from '@nestjs/common';
import { SendAcceptedResponse, SendResponse } from './dto/send.response';
import { hashOnly, SendBody, storeMessage } from './intake/outbox-intake';
import { newMessageId } from './mime/composed-message';
import { oneQueryAtATime } from './storage/send-content.repository';
import { OutboxRepository, SendingContextRow, SendRow } from './outbox.repository';
import { SendQueue } from './queue/send-queue';
import {
  IdempotencyKeyReusedException,
  InvalidMessageException,
  MailboxCannotSendException,
  SendErrorCode,
  SendNotFoundException,
} from './send-errors';

/** Printable ASCII, as Stripe and the IETF draft have it; at most 255 characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

const TOKEN_STATE_CODES: Record<string, FailureCode> = {
  not_obtained: FailureCode.TokenNotObtained,
  waiting_for_authorization: FailureCode.TokenWaitingForAuthorization,
  invalid: FailureCode.TokenInvalid,
};

export function toSendResponse(row: SendRow): SendResponse {
  return {
    id: row.id,
    state: row.state,
    messageId: row.message_id,
    attempts: row.attempts,
    lastError: row.last_error_code ? { code: row.last_error_code, message: row.last_error_message ?? '', at: (row.last_error_at ?? row.updated_at).toISOString() } : null,
    sentAt: row.sent_at ? row.sent_at.toISOString() : null,
    response: row.state === 'sent' ? row.response : null,
    sentCopy: row.state === 'sent' ? { state: row.sent_copy_state, folder: row.sent_copy_folder, error: row.sent_copy_error } : null,
    createdAt: row.created_at.toISOString(),
  };
}

/** Thrown inside the intake's transaction to roll it back: the Idempotency-Key names a send stored meanwhile. */
class KeyTakenMeanwhile extends Error {
  constructor(
    readonly existing: SendRow,
    readonly requestHash: string,
  ) {
    super('Idempotency-Key taken meanwhile');
  }
}

/**
 * The outbox's API side: checks that the mailbox may send, streams the message into storage as the body
 * arrives (intake/: never held whole; its bytes and Message-ID are fixed here, so every attempt sends the
 * same), and queues it. The worker does the sending (send.worker.ts).
 */
@Injectable()
export class OutboxService {
  private readonly logger = new Logger(OutboxService.name);

  constructor(
    private readonly repository: OutboxRepository,
    private readonly queue: SendQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * `body` is the request's, unread. The mailbox is checked before it is read (404, 409); an
   * Idempotency-Key that names a send only hashes it; otherwise it streams into one transaction that
   * commits with the send's row, or rolls back on any failure (400, 413, the client going away): nothing
   * of a refused send is left.
   */
  async send(mailboxId: string, body: SendBody, idempotencyKey: string | undefined): Promise<SendAcceptedResponse> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new InvalidMessageException('Idempotency-Key: must be 1 to 255 printable ASCII characters (a UUID is a good key)');
    }
    const context = await this.repository.sendingContext(mailboxId);
    if (!context) throw new NotFoundException(`Mailbox ${mailboxId} not found`);
    const max = this.config.sending.maxBytes;
    if (idempotencyKey !== undefined) {
      const existing = await this.repository.byIdempotencyKey(mailboxId, idempotencyKey);
      if (existing) return this.replay(existing, await hashOnly(body, max));
    }
    const cannotSend = this.cannotSend(context);
    if (cannotSend) {
      // The body is still read and checked first, as when it was parsed before the controller ran: a bad
      // body is a 400 naming its field whether or not the mailbox may send now.
      await hashOnly(body, max);
      throw cannotSend;
    }

    const id = randomUUID();
    let row: SendRow;
    try {
      row = await this.repository.transaction(async (transaction) => {
        const sql = oneQueryAtATime(transaction);
        const stored = await storeMessage(body, { sql, sendId: id, mailboxEmail: context.email, messageId: newMessageId(context.email, id), maxBytes: max });
        const inserted = await this.repository.insertStored(sql, {
          id,
          mailboxId,
          idempotencyKey: idempotencyKey ?? null,
          requestHash: stored.requestHash,
          messageId: stored.messageId,
          envelope: stored.envelope,
          size: stored.size,
        });
        if (!inserted.created) throw new KeyTakenMeanwhile(inserted.row, stored.requestHash);
        return inserted.row;
      });
    } catch (error) {
      if (error instanceof KeyTakenMeanwhile) return this.replay(error.existing, error.requestHash);
      throw error;
    }
    try {
      await this.queue.add(row.id, row.created_at.getTime());
    } catch (error) {
      // Stored: the worker's sweep queues it once Redis answers again (SendWorker.sweep).
      this.logger.warn(`Send ${row.id} stored but not queued (${(error as Error).message}); the worker's sweep queues it`);
    }
    return { id: row.id, state: row.state };
  }

  async get(mailboxId: string, sendId: string): Promise<SendResponse> {
    const row = await this.repository.get(mailboxId, sendId);
    if (!row) throw new SendNotFoundException(sendId);
    return toSendResponse(row);
  }

  /** The same key again: the same send, unless the request differs (then the key was reused by mistake). */
  private replay(existing: SendRow, requestHash: string): SendAcceptedResponse {
    if (existing.request_hash !== requestHash) throw new IdempotencyKeyReusedException(existing.id);
    return { id: existing.id, state: existing.state };
  }

  /** Why the mailbox cannot send now (a 409), or null. */
  private cannotSend(context: SendingContextRow): MailboxCannotSendException | null {
    try {
      this.assertCanSend(context);
      return null;
    } catch (error) {
      if (error instanceof MailboxCannotSendException) return error;
      throw error;
    }
  }

  private assertCanSend(context: SendingContextRow): void {
    if (!context.send_emails) throw new MailboxCannotSendException(SendErrorCode.SendingDisabled, "the provider's sendEmails is off; turn it on to send from its mailboxes");
    if (!context.enabled) throw new MailboxCannotSendException(SendErrorCode.MailboxDisabled, 'the mailbox is disabled');
    if (context.auth_method === 'oauth2' && context.token_state !== 'active') {
      const state = context.token_state ?? 'not_obtained';
      throw new MailboxCannotSendException(TOKEN_STATE_CODES[state] ?? FailureCode.TokenInvalid, `the OAuth token is ${state.replace(/_/g, ' ')}; sign in again`);
    }
  }
}
