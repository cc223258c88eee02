import { MailboxLogger } from '@app/logging';
import { Clock } from '@app/clock';
import { FencedOutError, isFencedOut, LeaseFence } from '@app/cluster';
import { MailEventsPublisher, FetchedMessage } from '@app/events';
import { FolderCursor, FolderSyncSink } from '@app/imap';
import { FolderCursorRepository } from '../folder-cursor.repository';
import { mailboxResynced, mailReceived } from '../mailbox-events';
import { MailboxSpec, refOf } from '../mailbox-spec';
import { MailboxStateReporter } from '../mailbox-state.reporter';
import { publishReceived } from '../publish-received';
import { SyncMetrics } from '../sync.metrics';
import { OwnSentCopyRepository } from './own-sent-copy.repository';

/** The cursor reads and writes an IMAP folder makes (the seam tests put a double of the repository in). */
export type ImapFolderCursors = Pick<FolderCursorRepository, 'load' | 'baseline' | 'advance'>;

export interface ImapFolderDeliveryDependencies {
  cursors: ImapFolderCursors;
  events: MailEventsPublisher;
  metrics: SyncMetrics;
  reporter: MailboxStateReporter;
  clock: Clock;
  /** The lease the cursor writes are fenced by. */
  lease: LeaseFence;
  /** A cursor write was refused: the runner stops at once (the session's own close reports only a failure kind). */
  onFencedOut(mailboxId: string, error: FencedOutError): void;
  /** Which new messages are our own Sent copies (no `mail.received` for them). */
  ownSentCopies: Pick<OwnSentCopyRepository, 'among'>;
}

/**
 * What happens when an IMAP folder session reports new messages: publish them (one batch, ids
 * deterministic per mailbox, folder, UIDVALIDITY and UID), only then advance the folder's cursor, then
 * record the delivery (status, lag metrics). Should the publish or the cursor write fail, `deliver`
 * rejects: the session closes, the runner reconnects and catches up from the cursor as stored, publishing
 * those messages again under the same ids (the queue keeps one job per id). A cursor never moves back.
 * A changed UIDVALIDITY publishes `mailbox.resynced` and takes a new baseline instead.
 */
export class ImapFolderDelivery implements FolderSyncSink {
  private readonly logger: MailboxLogger;

  constructor(
    private readonly mailbox: MailboxSpec,
    readonly folder: { id: string; path: string },
    private readonly deps: ImapFolderDeliveryDependencies,
  ) {
    this.logger = new MailboxLogger(mailbox.id, `Mailbox ${mailbox.id}`, { folder: this.folder.path });
  }

  cursor(): Promise<FolderCursor> {
    return this.deps.cursors.load(this.folder.id);
  }

  async baseline(uidValidity: number, lastUid: number, previous: FolderCursor): Promise<void> {
    if (previous.uidValidity !== null && previous.uidValidity !== uidValidity) {
      this.logger.warn(`${this.folder.path}: UIDVALIDITY changed ${previous.uidValidity} → ${uidValidity}; new baseline at UID ${lastUid}`);
      await this.deps.events.publish(mailboxResynced(refOf(this.mailbox), this.folder.path, previous.uidValidity, uidValidity, new Date(this.deps.clock.now())));
      this.deps.metrics.published.inc({ type: 'mailbox.resynced' });
    }
    await this.fenced(this.deps.cursors.baseline(this.folder.id, this.mailbox.id, uidValidity, lastUid, this.deps.lease));
  }

  async deliver(messages: FetchedMessage[], uidValidity: number): Promise<void> {
    const now = new Date(this.deps.clock.now());
    const ref = refOf(this.mailbox);
    const published = await this.withoutOwnSentCopies(messages, uidValidity);
    const lag = published.length > 0 ? await publishReceived(this.deps, published.map((message) => mailReceived(ref, message, now))) : null;
    await this.fenced(this.deps.cursors.advance(this.folder.id, uidValidity, messages[messages.length - 1].uid!, this.deps.lease));
    // Only our own copies: no event went out, so the status's "last event" stays as it was.
    if (published.length > 0) await this.deps.reporter.recordDelivery(this.mailbox.id, now, lag, this.deps.lease);
  }

  /**
   * Leaves out the copies of our own sends that the send worker appended to this folder (the Sent folder,
   * when it is followed): the CRM learns of a send from `mail.sent`, not as received mail. Only messages
   * from the mailbox itself can be one (a send's From is always the mailbox), so other folders and other
   * senders cost no query. Skipped messages still move the cursor; each is counted and logged.
   */
  private async withoutOwnSentCopies(messages: FetchedMessage[], uidValidity: number): Promise<FetchedMessage[]> {
    const email = this.mailbox.email.toLowerCase();
    const candidates = messages.filter((message) => message.from?.address?.toLowerCase() === email && message.uid !== undefined);
    if (candidates.length === 0) return messages;
    const own = await this.deps.ownSentCopies.among(
      this.mailbox.id,
      this.folder.path,
      uidValidity,
      candidates.map((message) => ({ uid: message.uid!, messageId: message.internetMessageId })),
    );
    if (own.size === 0) return messages;
    this.deps.metrics.ownSentCopiesSkipped.inc(own.size);
    this.logger.log(`${this.folder.path}: no mail.received for our own Sent copy (UID ${[...own].join(', ')})`);
    return messages.filter((message) => !own.has(message.uid!));
  }

  backfillSince(): Date | null {
    return this.mailbox.backfillSince;
  }

  /** A refused cursor write stops the runner before the session closes (and rejects `deliver`, as any failed write). */
  private async fenced(write: Promise<void>): Promise<void> {
    try {
      await write;
    } catch (error) {
      if (isFencedOut(error)) this.deps.onFencedOut(this.mailbox.id, error);
      throw error;
    }
  }
}
