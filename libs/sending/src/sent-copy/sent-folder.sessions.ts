import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import type { ImapFlow } from 'imapflow';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ImapTimeouts } from '@app/imap';
import { ImapConnectionPool } from '@app/messages';
import { OutboundPolicy } from '@app/outbound';
import { MailboxCredentials, mailboxSpecOf, MailboxSpecRepository } from '@app/sync';
import { sentFolderOf } from './sent-folder';

/** Sessions per mailbox for Sent copies and look-ups: one is enough (they are brief), two let a look-up pass a slow APPEND. */
const SESSIONS_PER_MAILBOX = 2;
const IDLE_MS = 30_000;

/** The mailbox has no Sent folder (neither flagged `\Sent` nor named Sent): trying again cannot help. */
export class NoSentFolderError extends Error {
  constructor() {
    super('The mailbox has no Sent folder (none flagged \\Sent, none named Sent); create one, or turn the provider\'s appendToSent off');
    this.name = 'NoSentFolderError';
  }
}

/**
 * Short-lived IMAP sessions of the sending mailbox, for its Sent folder: the pool and login of
 * libs/messages (ImapConnectionPool: password or XOAUTH2, per mailbox, reused while idle), with the
 * credential from the worker's MailboxCredentials (an access token refreshed first when due, as for SMTP).
 */
@Injectable()
export class SentFolderSessions implements OnModuleDestroy {
  private readonly pool: ImapConnectionPool;

  constructor(
    private readonly specs: MailboxSpecRepository,
    private readonly credentials: MailboxCredentials,
    outbound: OutboundPolicy,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const timeoutMs = config.sending.timeoutMs;
    const timeouts: ImapTimeouts = { connectMs: timeoutMs, socketMs: timeoutMs, maxIdleMs: IDLE_MS };
    this.pool = new ImapConnectionPool({ maxPerMailbox: SESSIONS_PER_MAILBOX, idleMs: IDLE_MS, waitMs: timeoutMs, timeouts, outbound });
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.close();
  }

  /**
   * Runs `work` on a session of the mailbox. A pooled session that fails is dropped and `work` runs once
   * more on a new one (the server may have ended an idle session); a failure on a new session is thrown.
   */
  async withSession<T>(mailboxId: string, work: (client: ImapFlow) => Promise<T>): Promise<T> {
    const found = await this.specs.mailbox(mailboxId);
    if (!found) throw new Error(`Mailbox ${mailboxId} is gone`);
    const spec = mailboxSpecOf(found.row, found.folders);
    const { credential } = await this.credentials.resolve(spec);
    for (let fresh = false; ; fresh = true) {
      const lease = await this.pool.acquire(mailboxId, spec.endpoint, credential, fresh);
      try {
        const value = await work(lease.client);
        lease.release(true);
        return value;
      } catch (error) {
        const known = error instanceof NoSentFolderError;
        lease.release(known);
        if (known || !lease.reused || fresh) throw error;
      }
    }
  }
}

/** The Sent folder's path (NoSentFolderError when there is none). */
export async function findSentFolder(client: ImapFlow): Promise<string> {
  const folder = sentFolderOf(await client.list());
  if (!folder) throw new NoSentFolderError();
  return folder;
}

/** UIDs in `folder` of messages with this Message-ID (SEARCH HEADER Message-ID), with the folder's UIDVALIDITY. */
export async function searchMessageId(client: ImapFlow, folder: string, messageId: string): Promise<{ uidValidity: number; uids: number[] }> {
  const mailbox = await client.mailboxOpen(folder, { readOnly: true });
  const uids = (await client.search({ header: { 'message-id': messageId } }, { uid: true })) || [];
  return { uidValidity: Number(mailbox.uidValidity), uids };
}
