import { ConflictException } from '@nestjs/common';

/** Machine-readable reasons for the typed mailbox errors below (kept stable for logs and tests). */
export enum MailboxErrorCode {
  ProviderDeleted = 'PROVIDER_DELETED',
  EmailTaken = 'EMAIL_TAKEN',
}

/**
 * The provider chosen for a new mailbox was deleted between choosing it and holding its row: a race with
 * `DELETE /v1/providers/:id`, not bad input, hence a 409 rather than the 400 of an unknown providerId.
 */
export class ProviderDeletedException extends ConflictException {
  readonly code = MailboxErrorCode.ProviderDeleted;

  constructor(providerId: string) {
    super(`providerId: provider ${providerId} was deleted while the mailbox was being created; nothing was stored`);
  }
}

/** Another request created a mailbox with the same address first (the unique index decided). */
export class MailboxEmailTakenException extends ConflictException {
  readonly code = MailboxErrorCode.EmailTaken;

  constructor(email: string, existingId?: string) {
    super(`email: a mailbox for ${email} already exists${existingId ? ` (id ${existingId})` : ''}`);
  }
}
