import { BadRequestException, ConflictException, HttpException, HttpStatus, NotFoundException } from '@nestjs/common';

/** Machine-readable reasons of the outbox's HTTP errors (the `code` of their error body; stable). */
export enum SendErrorCode {
  SendingDisabled = 'SENDING_DISABLED',
  MailboxDisabled = 'MAILBOX_DISABLED',
  MessageTooLarge = 'MESSAGE_TOO_LARGE',
  IdempotencyKeyReused = 'IDEMPOTENCY_KEY_REUSED',
  SendNotFound = 'SEND_NOT_FOUND',
  InvalidMessage = 'INVALID_MESSAGE',
}

/** 409: the mailbox cannot send now; `code` says why (SENDING_DISABLED, a token state's code …). */
export class MailboxCannotSendException extends ConflictException {
  constructor(
    readonly code: string,
    reason: string,
  ) {
    super({ message: `The mailbox cannot send (${code}): ${reason}`, code });
  }
}

/** 413: the composed message (attachments included) is above SEND_MAX_BYTES; `size` null: known only to be larger (a stream stopped there). */
export class MessageTooLargeException extends HttpException {
  readonly code = SendErrorCode.MessageTooLarge;

  constructor(size: number | null, max: number) {
    const what = size === null ? `more than ${max} bytes` : `${size} bytes`;
    super({ message: `The message is ${what}; at most ${max} (SEND_MAX_BYTES) are sent`, code: SendErrorCode.MessageTooLarge }, HttpStatus.PAYLOAD_TOO_LARGE);
  }
}

/** 422: the Idempotency-Key was used in the last 24 h for a different request. */
export class IdempotencyKeyReusedException extends HttpException {
  readonly code = SendErrorCode.IdempotencyKeyReused;

  constructor(sendId: string) {
    super(
      { message: `Idempotency-Key: already used in the last 24 h for a different message (send ${sendId}); use a new key for a new message`, code: SendErrorCode.IdempotencyKeyReused },
      HttpStatus.UNPROCESSABLE_ENTITY,
    );
  }
}

export class SendNotFoundException extends NotFoundException {
  readonly code = SendErrorCode.SendNotFound;

  constructor(sendId: string) {
    super({ message: `Send ${sendId} not found for this mailbox`, code: SendErrorCode.SendNotFound });
  }
}

/** 400 naming the field (or header) of the message that is wrong. */
export class InvalidMessageException extends BadRequestException {
  readonly code = SendErrorCode.InvalidMessage;

  constructor(problem: string) {
    super({ message: problem, code: SendErrorCode.InvalidMessage });
  }
}
