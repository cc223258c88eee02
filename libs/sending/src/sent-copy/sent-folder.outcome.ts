import { Injectable, Logger } from '@nestjs/common';
import { errorMessage } from '@app/failures';
import { SendRow, SendTargetRow } from '../outbox.repository';
import { GraphSendTransport } from '../graph/graph-send.transport';
import { lookUpAfterSettling } from '../graph/graph-sent-items';
import { findSentFolder, searchMessageId, SentFolderSessions } from './sent-folder.sessions';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What the Sent folder says about a send whose attempt was cut off after the hand-over. */
export type SentFolderVerdict = { found: true; folder: string; response: string } | { found: false; why: string };

/**
 * Resolves SEND_OUTCOME_UNKNOWN where the mailbox can tell: a server that files its own copy of what it
 * accepted (Exchange Online, Gmail: provider setting appendToSent off) has the message in the Sent folder
 * if and only if it took it, so finding its Message-ID there proves it was sent.
 *
 * Where our own APPEND makes the copy (appendToSent on), its absence proves nothing: the copy is appended
 * only after `sent` is recorded, so a worker that died between the server's 250 and that record left no
 * copy behind though the message went out. Such a send stays SEND_OUTCOME_UNKNOWN.
 */
@Injectable()
export class SentFolderOutcome {
  private readonly logger = new Logger(SentFolderOutcome.name);

  constructor(
    private readonly sessions: SentFolderSessions,
    private readonly graph: GraphSendTransport,
  ) {}

  async lookUp(target: SendTargetRow, send: SendRow): Promise<SentFolderVerdict> {
    if (target.provider_type === 'microsoft-graph') return this.inSentItems(target, send);
    if (target.provider_type !== 'imap') return { found: false, why: 'the mailbox has no IMAP Sent folder to look in' };
    if (target.append_to_sent) {
      return { found: false, why: 'this server does not keep its own Sent copy (appendToSent is on), so the Sent folder cannot tell' };
    }
    try {
      const found = await this.sessions.withSession(target.mailbox_id, async (client) => {
        const folder = await findSentFolder(client);
        return { folder, uids: (await searchMessageId(client, folder, send.message_id)).uids };
      });
      if (found.uids.length === 0) return { found: false, why: `it is not in the Sent folder ${found.folder}, where this server files what it accepted` };
      this.logger.log({ mailboxId: send.mailbox_id, sendId: send.id }, `Send ${send.id}: found Message-ID ${send.message_id} in ${found.folder} after an interrupted attempt: recorded as sent`);
      return { found: true, folder: found.folder, response: `Confirmed from the Sent folder: Message-ID ${send.message_id} found in "${found.folder}" after the attempt was interrupted` };
    } catch (error) {
      return { found: false, why: `the Sent folder could not be searched (${errorMessage(error)})` };
    }
  }

  /** Graph: Sent Items by internetMessageId, looked at once more after a short wait if the hand-over was recent (graph-sent-items.ts). */
  private async inSentItems(target: SendTargetRow, send: SendRow): Promise<SentFolderVerdict> {
    try {
      const { found, looks } = await lookUpAfterSettling({
        look: async () => (await this.graph.sentItemsWith(send, target)).length > 0,
        handedOverAt: send.in_flight_since?.getTime() ?? null,
        now: () => Date.now(),
        sleep,
      });
      if (!found) {
        return { found: false, why: `it is not in Sent Items, where Exchange Online files every message it sends (looked ${looks === 1 ? 'once' : 'twice, the second time after waiting for Exchange to file it'})` };
      }
      this.logger.log({ mailboxId: send.mailbox_id, sendId: send.id }, `Send ${send.id}: found Message-ID ${send.message_id} in Sent Items after an interrupted attempt: recorded as sent`);
      return { found: true, folder: 'Sent Items', response: `Confirmed from Sent Items: Message-ID ${send.message_id} found in the mailbox's Sent Items after the attempt was interrupted` };
    } catch (error) {
      return { found: false, why: `Sent Items could not be searched (${errorMessage(error)})` };
    }
  }
}
