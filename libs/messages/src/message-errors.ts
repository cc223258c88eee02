import { BadRequestException, ConflictException, HttpException, HttpStatus, NotFoundException } from '@nestjs/common';

/** Machine-readable reasons of the message-reading errors (the `code` of their error body; stable). */
export enum MessageErrorCode {
  MalformedRef = 'MALFORMED_REF',
  MessageNotFound = 'MESSAGE_NOT_FOUND',
  AttachmentNotFound = 'ATTACHMENT_NOT_FOUND',
  MailServerFailed = 'MAIL_SERVER_FAILED',
  MailServerTimeout = 'MAIL_SERVER_TIMEOUT',
  MailboxBusy = 'MAILBOX_BUSY',
}

/** 400: the ref (or attachment id) is not one this service issued; the message names the problem. */
export class MalformedRefException extends BadRequestException {
  readonly code = MessageErrorCode.MalformedRef;

  constructor(problem: string) {
    super({ message: problem, code: MessageErrorCode.MalformedRef });
  }
}

/** 404: gone (expunged, deleted, UIDVALIDITY changed), or the ref belongs to another mailbox. */
export class MessageNotFoundException extends NotFoundException {
  readonly code = MessageErrorCode.MessageNotFound;

  constructor(why: string) {
    super({ message: `Message not found: ${why}`, code: MessageErrorCode.MessageNotFound });
  }
}

export class AttachmentNotFoundException extends NotFoundException {
  readonly code = MessageErrorCode.AttachmentNotFound;

  constructor(attachmentId: string) {
    super({ message: `Attachment ${attachmentId} not found in this message`, code: MessageErrorCode.AttachmentNotFound });
  }
}

/**
 * 409: the mailbox cannot be read now — its token is not usable or the server refused the login. `code`
 * is the same FailureCode (or passed-through code) the mailbox status shows, so the CRM can act on it.
 */
export class MailboxNotReadableException extends ConflictException {
  constructor(
    readonly code: string,
    reason: string,
  ) {
    super({ message: `The mailbox cannot be read now (${code}): ${reason}`, code });
  }
}

/** 502: the mail server (or Graph) failed or answered something unusable. */
export class MailServerFailedException extends HttpException {
  readonly code = MessageErrorCode.MailServerFailed;

  constructor(reason: string) {
    super({ message: `The mail server failed: ${reason}`, code: MessageErrorCode.MailServerFailed }, HttpStatus.BAD_GATEWAY);
  }
}

/** 504: the mail server (or Graph) did not answer in time. */
export class MailServerTimeoutException extends HttpException {
  readonly code = MessageErrorCode.MailServerTimeout;

  constructor(reason: string) {
    super({ message: `The mail server did not answer in time: ${reason}`, code: MessageErrorCode.MailServerTimeout }, HttpStatus.GATEWAY_TIMEOUT);
  }
}

/** 503: every IMAP session this service may open to the mailbox is busy (long downloads); retry shortly. */
export class MailboxBusyException extends HttpException {
  readonly code = MessageErrorCode.MailboxBusy;

  constructor(reason: string) {
    super({ message: `The mailbox is busy: ${reason}; retry in a few seconds`, code: MessageErrorCode.MailboxBusy }, HttpStatus.SERVICE_UNAVAILABLE);
  }
}
