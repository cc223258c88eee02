import type { DeltaRound, DeltaStart, GraphFolder, GraphMailboxClientOptions, GraphMessage, GraphSubscription } from './graph-client.types';
import { deltaRound } from './graph-delta';
import { resolveFolderPath } from './graph-folders';
import { GraphHttp } from './graph-http';
import { GraphSubscriptionRenewals } from './graph-subscription-renewals';
import { createSubscription, deleteSubscription, reauthorizeSubscription, type CreateSubscriptionInput } from './graph-subscriptions';
import { GraphUrls } from './graph-urls';

/**
 * Microsoft Graph for one mailbox: folder resolution, the folder's new-message subscription and its
 * message delta. Every request shares this instance's concurrency slots (Exchange throttles per
 * mailbox and app), gets a fresh token from `accessToken`, and is retried on 429/503/504/network
 * failures; what still fails is a GraphApiError with a `kind` the caller can branch on.
 */
export class GraphMailboxClient {
  private readonly http: GraphHttp;
  private readonly urls: GraphUrls;
  private readonly pageSize: number;
  private readonly renewals: GraphSubscriptionRenewals;

  constructor(options: GraphMailboxClientOptions) {
    this.http = new GraphHttp(options);
    this.urls = new GraphUrls(options.baseUrl, options.user);
    this.pageSize = options.pageSize ?? 100;
    this.renewals = new GraphSubscriptionRenewals(this.http, this.urls, options.renewalBatchWindowMs ?? 20);
  }

  /** Requests of this mailbox in flight right now (for status pages and tests). */
  get inFlight(): number {
    return this.http.concurrency.activeCount;
  }

  /**
   * 'INBOX' (any case) and Graph well-known names (inbox, sentitems, archive, …) map to that folder;
   * otherwise a display-name path, nested with '/' ("Projects/2026", "Inbox/Clients"), looked up level
   * by level. A missing folder is GraphApiError kind 'not_found' naming the missing level.
   */
  resolveFolder(path: string): Promise<GraphFolder> {
    return resolveFolderPath(this.http, this.urls, path);
  }

  /** POST /subscriptions: changeType 'created' on the folder's messages, immutable ids in notifications. */
  createSubscription(input: CreateSubscriptionInput): Promise<GraphSubscription> {
    return createSubscription(this.http, this.urls, input);
  }

  /**
   * PATCH; kind 'not_found' when Graph has removed it (create a new one then). Renewals of this mailbox
   * asked for within `renewalBatchWindowMs` of each other go as one `$batch` (see GraphSubscriptionRenewals).
   */
  renewSubscription(id: string, expirationDateTime: Date): Promise<GraphSubscription> {
    return this.renewals.renew(id, expirationDateTime);
  }

  /** POST /subscriptions/{id}/reauthorize, the answer to a reauthorizationRequired lifecycle event. */
  reauthorizeSubscription(id: string): Promise<void> {
    return reauthorizeSubscription(this.http, this.urls, id);
  }

  /** DELETE; an unknown id resolves too (it is gone either way). */
  deleteSubscription(id: string): Promise<void> {
    return deleteSubscription(this.http, this.urls, id);
  }

  /**
   * One delta round for a folder, from a stored deltaLink or a new initial request (optionally bounded
   * by receivedSince). onPage gets each page's new messages in order and is awaited before the next
   * page; returns the final deltaLink to store. kind 'sync_reset': start over with { receivedSince }.
   */
  delta(folderId: string, from: DeltaStart, onPage: (messages: GraphMessage[]) => Promise<void>): Promise<DeltaRound> {
    return deltaRound(this.http, this.urls, folderId, from, onPage, { pageSize: this.pageSize });
  }

  /** Releases the TLS agent created for caPem; the client must not be used afterwards. */
  close(): Promise<void> {
    return this.http.close();
  }
}
