import { Injectable } from '@nestjs/common';
import { MailboxAnnouncer } from '@app/control';
import { MailboxesService } from '@app/mailboxes';

/**
 * The console's buttons, doing what POST /v1/mailboxes/:id/resync, PATCH {enabled} and DELETE do: the same
 * service call, then the same announcement, so the listeners act at once rather than at their next scan.
 */
@Injectable()
export class MailboxActionsService {
  constructor(
    private readonly mailboxes: MailboxesService,
    private readonly announcer: MailboxAnnouncer,
  ) {}

  async resync(id: string): Promise<void> {
    await this.mailboxes.requestResync(id);
    this.announcer.announce('resync-requested', id);
  }

  /** DELETE /v1/mailboxes/:id: the listener holding it lets it go at once. */
  async remove(id: string): Promise<void> {
    await this.mailboxes.remove(id);
    this.announcer.announce('deleted', id);
  }

  async setEnabled(id: string, enabled: boolean): Promise<void> {
    await this.mailboxes.update(id, { enabled });
    this.announcer.announce(enabled ? 'changed' : 'disabled', id);
  }
}
