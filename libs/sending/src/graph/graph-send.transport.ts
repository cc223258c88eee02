import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { GraphHttp, GraphUrls } from '@app/graph';
import { OutboundPolicy } from '@app/outbound';
import { MailboxCredentials, mailboxSpecOf, MailboxSpecRepository } from '@app/sync';
import { OutboxRepository, SendRow, SendTargetRow } from '../outbox.repository';
import { graphSendAttempt, GraphSendResult } from './graph-send-attempt';
import { sentItemsWithMessageId } from './graph-sent-items';

/**
 * Sending for `microsoft-graph` mailboxes (SendProcessor picks it by provider type). The token comes
 * from the OAuth library as the Graph listener's does (MailboxCredentials: the mailbox's delegated token,
 * or the provider's app-only one from client credentials), refreshed first when due; a 401 makes the
 * client ask once more with a forced refresh and send once more (BearerTokenMiddleware). Delegated
 * mailboxes are addressed as `/me` (the token's user), app-only ones as `/users/{login}`.
 *
 * The client itself retries nothing when sending (maxRetries 0): a 429/503 is the attempt's failure, classified
 * by classifyGraphSendError, and the next attempt is BullMQ's, at least Retry-After later; so every
 * attempt is counted and visible on the send, and nothing is sent twice within one attempt.
 */
@Injectable()
export class GraphSendTransport {
  private readonly logger = new Logger(GraphSendTransport.name);

  constructor(
    private readonly repository: OutboxRepository,
    private readonly specs: MailboxSpecRepository,
    private readonly credentials: MailboxCredentials,
    private readonly outbound: OutboundPolicy,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async attempt(row: SendRow, target: SendTargetRow): Promise<GraphSendResult> {
    const raw = await this.repository.content(row.id);
    if (!raw) throw new Error(`The content of send ${row.id} is missing`);
    return this.withGraph(target, row.id, 0, (http, urls) =>
      graphSendAttempt({ http, urls, raw, messageId: row.message_id, envelopeTo: row.envelope_to, beforeHandOver: () => this.repository.markInFlight(row.id) }),
    );
  }

  /**
   * The ids of the messages in the mailbox's Sent Items with the send's Message-ID: the look-up of an attempt
   * cut off after the hand-over (SentFolderOutcome). A GET, so the client may retry it (429/5xx) itself.
   */
  async sentItemsWith(send: SendRow, target: SendTargetRow): Promise<string[]> {
    return this.withGraph(target, send.id, 3, (http, urls) => sentItemsWithMessageId(http, urls, send.message_id));
  }

  /** A client for the mailbox with its token (the one token path of Graph sending), closed after `run`. */
  private async withGraph<T>(target: SendTargetRow, sendId: string, maxRetries: number, run: (http: GraphHttp, urls: GraphUrls) => Promise<T>): Promise<T> {
    const found = await this.specs.mailbox(target.mailbox_id);
    if (!found) throw new Error(`Mailbox ${target.mailbox_id} is gone`);
    const spec = mailboxSpecOf(found.row, found.folders);
    const http = new GraphHttp({
      baseUrl: spec.graphBaseUrl!,
      user: spec.login,
      accessToken: async ({ forceRefresh }) => {
        if (forceRefresh) this.logger.log(`Send ${sendId}: Graph refused the access token; refreshing it once and trying again`);
        const resolved = await this.credentials.resolve(spec, { forceRefresh });
        if (resolved.credential.kind !== 'oauth2') throw new Error('not an OAuth credential');
        return resolved.credential.accessToken;
      },
      maxRetries,
      timeoutMs: this.config.sending.timeoutMs,
      outbound: this.outbound,
      caPem: this.config.oauth.caPem,
    });
    try {
      return await run(http, new GraphUrls(spec.graphBaseUrl!, spec.login, { signedInUser: !spec.appOnly }));
    } finally {
      await http.close();
    }
  }
}
