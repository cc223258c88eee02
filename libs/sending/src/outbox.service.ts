import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@app/config';
import { FailureCode } from '@app/failures';
import { Inject } from '@nestjs/common';
import { SendAcceptedResponse, SendResponse } from './dto/send.response';
import { SendRequestDto } from './dto/send-request.dto';
import { composeJson } from './mime/compose-json';
import { ComposedMessage, newMessageId } from './mime/composed-message';
import { prepareRawMessage } from './mime/raw-message';
import { OutboxRepository, SendingContextRow, SendRow } from './outbox.repository';
import { SendQueue } from './queue/send-queue';
import {
  IdempotencyKeyReusedException,
  InvalidMessageException,
  MailboxCannotSendException,
  MessageTooLargeException,
  SendErrorCode,
  SendNotFoundException,
} from './send-errors';

/** The message to send as the request carried it. */
export type SendInput = { kind: 'json'; dto: SendRequestDto } | { kind: 'raw'; body: Buffer };

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

/**
 * The outbox's API side: checks that the mailbox may send, composes the message once (its bytes and
 * Message-ID are fixed here, so every attempt sends the same), stores it and queues it. The worker does
 * the sending (send.worker.ts).
 */
@Injectable()
export class OutboxService {
  private readonly logger = new Logger(OutboxService.name);

  constructor(
    private readonly repository: OutboxRepository,
    private readonly queue: SendQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async send(mailboxId: string, input: SendInput, idempotencyKey: string | undefined): Promise<SendAcceptedResponse> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new InvalidMessageException('Idempotency-Key: must be 1 to 255 printable ASCII characters (a UUID is a good key)');
    }
    const context = await this.repository.sendingContext(mailboxId);
    if (!context) throw new NotFoundException(`Mailbox ${mailboxId} not found`);
    const requestHash = hashOf(input);
    if (idempotencyKey !== undefined) {
      const existing = await this.repository.byIdempotencyKey(mailboxId, idempotencyKey);
      if (existing) return this.replay(existing, requestHash);
    }
    this.assertCanSend(context);

    const id = randomUUID();
    const composed = await this.compose(input, context, newMessageId(context.email, id));
    const max = this.config.sending.maxBytes;
    if (composed.raw.length > max) throw new MessageTooLargeException(composed.raw.length, max);
    const { created, row } = await this.repository.insert({
      id,
      mailboxId,
      idempotencyKey: idempotencyKey ?? null,
      requestHash,
      messageId: composed.messageId,
      envelope: composed.envelope,
      raw: composed.raw,
    });
    if (!created) return this.replay(row, requestHash);
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

  private assertCanSend(context: SendingContextRow): void {
    if (!context.send_emails) throw new MailboxCannotSendException(SendErrorCode.SendingDisabled, "the provider's sendEmails is off; turn it on to send from its mailboxes");
    if (!context.enabled) throw new MailboxCannotSendException(SendErrorCode.MailboxDisabled, 'the mailbox is disabled');
    if (context.auth_method === 'oauth2' && context.token_state !== 'active') {
      const state = context.token_state ?? 'not_obtained';
      throw new MailboxCannotSendException(TOKEN_STATE_CODES[state] ?? FailureCode.TokenInvalid, `the OAuth token is ${state.replace(/_/g, ' ')}; sign in again`);
    }
  }

  private async compose(input: SendInput, context: SendingContextRow, messageId: string): Promise<ComposedMessage> {
    if (input.kind === 'raw') return prepareRawMessage(input.body, context.email, messageId);
    return composeJson(input.dto, { email: context.email }, messageId);
  }
}

/** What makes two requests "the same" for an Idempotency-Key: the JSON body (keys sorted) or the raw bytes. */
function hashOf(input: SendInput): string {
  const hash = createHash('sha256');
  if (input.kind === 'raw') hash.update('raw\0').update(input.body);
  else hash.update('json\0').update(canonicalJson(input.dto));
  return hash.digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
