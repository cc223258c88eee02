import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { errorMessage } from '@app/failures';
import { OutboxRepository, SendTargetRow } from '../outbox.repository';
import { afterFailedAppend, SENT_COPY_HOLD_MS, SentCopyFailure } from './sent-copy-state';
import { ClaimedSentCopy, SentCopyRepository } from './sent-copy.repository';
import { SentCopyMetrics } from './sent-copy.metrics';
import { findSentFolder, NoSentFolderError, searchMessageId, SentFolderSessions } from './sent-folder.sessions';

/** Shutdown waits this long for copies in flight (one cut short is taken again by a sweep, after its hold). */
const CLOSE_WAIT_MS = 10_000;

/**
 * Appends the exact bytes a send went out with to the mailbox's Sent folder, flagged \Seen, when the
 * provider's appendToSent is on. Runs after the send is recorded `sent` (its outcome and `mail.sent` are
 * never held up or undone by the copy): started by the send worker right after, and taken again by the
 * sweep when it failed, is due for a retry, or its worker died while holding it.
 *
 * Never twice in the folder: the folder is recorded before the APPEND, and a copy taken again after a try
 * that got that far is looked for there (SEARCH HEADER Message-ID) before it is appended again.
 */
@Injectable()
export class SentCopier implements BeforeApplicationShutdown {
  private readonly logger = new Logger(SentCopier.name);
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly repository: SentCopyRepository,
    private readonly outbox: OutboxRepository,
    private readonly sessions: SentFolderSessions,
    private readonly metrics: SentCopyMetrics,
  ) {}

  /**
   * Starts the copy of a send just recorded `sent` without waiting for it (the job, its slot and its
   * metrics are done). A provider that keeps its own copy never gets here: recordSent marked it
   * `not_needed` with the send (skippedWithSent).
   */
  start(sendId: string): void {
    const copy = this.copy(sendId).finally(() => this.inFlight.delete(copy));
    this.inFlight.add(copy);
  }

  /** The copy was marked `not_needed` with the send's `sent` (OutboxRepository.recordSent): counted here, nothing else to do. */
  skippedWithSent(): void {
    this.metrics.copies.inc({ result: 'not_needed' });
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.inFlight.size === 0) return;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())]);
  }

  /** Decides, takes and makes the copy of one sent send (nothing when it is not due or another worker holds it). Never rejects. */
  async copy(sendId: string): Promise<void> {
    try {
      const send = await this.outbox.byId(sendId);
      if (!send || send.state !== 'sent') return;
      const target = await this.outbox.sendTarget(send.mailbox_id);
      if (!target) return;
      if (!needsCopy(target)) return await this.skip(sendId);
      const claimed = await this.repository.claim(sendId, SENT_COPY_HOLD_MS);
      if (claimed) await this.make(claimed);
    } catch (error) {
      // The database was away: the copy stays due and a later sweep takes it.
      this.logger.warn(`Sent copy of send ${sendId}: ${errorMessage(error)}`);
    }
  }

  /** The provider keeps its own copy (or none is wanted). Never rejects. */
  private async skip(sendId: string): Promise<void> {
    try {
      if (await this.repository.skip(sendId)) this.metrics.copies.inc({ result: 'not_needed' });
    } catch (error) {
      this.logger.warn(`Sent copy of send ${sendId}: ${errorMessage(error)}`);
    }
  }

  private async make(claimed: ClaimedSentCopy): Promise<void> {
    try {
      const raw = await this.outbox.content(claimed.id);
      if (!raw) throw Object.assign(new Error('the content of the send is gone'), { permanent: true });
      const done = await this.sessions.withSession(claimed.mailbox_id, async (client) => {
        if (claimed.sent_copy_folder) {
          // An earlier try chose this folder: its APPEND may have landed before its worker died.
          const earlier = await searchMessageId(client, claimed.sent_copy_folder, claimed.message_id);
          if (earlier.uids.length > 0) return this.repository.appended(claimed.id, claimed.sent_copy_folder, earlier.uidValidity, earlier.uids[earlier.uids.length - 1]);
        }
        const folder = await findSentFolder(client);
        if (!(await this.repository.chooseFolder(claimed.id, folder))) return false;
        const result = await client.append(folder, raw, ['\\Seen']);
        if (!result) throw new Error(`APPEND to ${folder} was refused`);
        // Without UIDPLUS there is no APPENDUID: the listener then knows the copy by its Message-ID.
        const uid = result.uid ?? null;
        const uidValidity = uid !== null && result.uidValidity !== undefined ? Number(result.uidValidity) : null;
        return this.repository.appended(claimed.id, folder, uidValidity, uid);
      });
      if (done) this.metrics.copies.inc({ result: 'appended' });
    } catch (error) {
      await this.failed(claimed, { permanent: error instanceof NoSentFolderError || (error as { permanent?: boolean }).permanent === true, message: errorMessage(error) });
    }
  }

  private async failed(claimed: ClaimedSentCopy, failure: SentCopyFailure): Promise<void> {
    const next = afterFailedAppend(claimed.sent_copy_attempts, failure);
    if (next.event === 'retry') {
      await this.repository.retry(claimed.id, failure.message, next.delayMs);
      this.metrics.copies.inc({ result: 'retried' });
      this.logger.log({ mailboxId: claimed.mailbox_id, sendId: claimed.id }, `Sent copy of send ${claimed.id} (try ${claimed.sent_copy_attempts}): ${failure.message}; trying again in ${Math.round(next.delayMs / 1000)} s`);
    } else {
      await this.repository.giveUp(claimed.id, failure.message);
      this.metrics.copies.inc({ result: 'failed' });
      this.logger.warn({ mailboxId: claimed.mailbox_id, sendId: claimed.id }, `Sent copy of send ${claimed.id} failed after ${claimed.sent_copy_attempts} tries: ${failure.message} (the send itself is sent)`);
    }
  }
}

/** A copy is ours to make: the provider asks for it and is one we reach over IMAP. */
export function needsCopy(target: Pick<SendTargetRow, 'append_to_sent' | 'provider_type'>): boolean {
  return target.append_to_sent && target.provider_type === 'imap';
}
