import { GraphErrorCode } from '@app/failures';
import { GraphApiError } from './graph-api.error';
import { GRAPH_BATCH_MAX_REQUESTS, sendBatch, type GraphBatchResponse } from './graph-batch';
import type { GraphSubscription } from './graph-client.types';
import type { GraphHttp } from './graph-http';
import { classifyGraphResponse, RETRYABLE_STATUSES } from './graph-response';
import { renewSubscription, subscriptionOf } from './graph-subscriptions';
import type { GraphUrls } from './graph-urls';

interface PendingRenewal {
  id: string;
  expirationDateTime: Date;
  resolve(subscription: GraphSubscription): void;
  reject(error: unknown): void;
}

/**
 * A mailbox's subscription renewals: the ones asked for within `windowMs` of each other (the folders of
 * a mailbox opening together, renewal timers due at the same minute) go to Graph as one JSON `$batch`
 * of up to 20 PATCHes instead of one request each. A renewal alone is a plain PATCH. Each caller gets
 * what a single renewal gives: its subscription, or the GraphApiError its item earned (404 → kind
 * 'not_found': create a new one). Items answered 429/503/504 wait as Retry-After says (counted by
 * onThrottled) and go again in the next batch, within the same retry budget a single request has.
 */
export class GraphSubscriptionRenewals {
  private pending: PendingRenewal[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly http: GraphHttp,
    private readonly urls: GraphUrls,
    private readonly windowMs: number,
  ) {}

  renew(id: string, expirationDateTime: Date): Promise<GraphSubscription> {
    return new Promise<GraphSubscription>((resolve, reject) => {
      this.pending.push({ id, expirationDateTime, resolve, reject });
      this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  private flush(): void {
    const due = this.pending;
    this.pending = [];
    this.timer = undefined;
    if (due.length === 1) {
      const [only] = due as [PendingRenewal];
      renewSubscription(this.http, this.urls, only.id, only.expirationDateTime).then(only.resolve, only.reject);
      return;
    }
    for (let start = 0; start < due.length; start += GRAPH_BATCH_MAX_REQUESTS) void this.renewBatch(due.slice(start, start + GRAPH_BATCH_MAX_REQUESTS), 0);
  }

  private async renewBatch(renewals: PendingRenewal[], retries: number): Promise<void> {
    let answers: GraphBatchResponse[];
    try {
      // Indexes as item ids: one subscription could be asked for twice in the same window.
      answers = await sendBatch(
        this.http,
        this.urls,
        renewals.map((renewal, index) => ({
          id: String(index + 1),
          method: 'PATCH',
          url: `/subscriptions/${encodeURIComponent(renewal.id)}`,
          body: { expirationDateTime: renewal.expirationDateTime.toISOString() },
        })),
        true,
      );
    } catch (error) {
      for (const renewal of renewals) renewal.reject(error);
      return;
    }
    const again: Array<{ renewal: PendingRenewal; error: GraphApiError }> = [];
    answers.forEach((answer, index) => {
      const renewal = renewals[index] as PendingRenewal;
      const requestId = answer.headers.get('request-id');
      if (answer.status >= 200 && answer.status < 300) {
        try {
          renewal.resolve(subscriptionOf(answer.body, answer.status, requestId, 'PATCH /subscriptions/{id}'));
        } catch (error) {
          renewal.reject(error);
        }
        return;
      }
      const error = itemError(answer, new URL(this.urls.subscription(renewal.id)).pathname);
      if (answer.status === 0 || RETRYABLE_STATUSES.has(answer.status)) again.push({ renewal, error });
      else renewal.reject(error);
    });
    if (again.length === 0) return;
    // One wait for the items Graph pushed back: the longest Retry-After among them (or the backoff), reported once.
    const retryAfter = again.reduce<number | null>((longest, { error }) => (error.retryAfterMs === null ? longest : Math.max(longest ?? 0, error.retryAfterMs)), null);
    const status = again.find(({ error }) => error.status === 429)?.error.status ?? again[0]!.error.status;
    if (!(await this.http.waitToRetry(retries, retryAfter, status))) {
      for (const { renewal, error } of again) renewal.reject(error);
      return;
    }
    await this.renewBatch(
      again.map(({ renewal }) => renewal),
      retries + 1,
    );
  }
}

/** The error a single PATCH with this answer would have thrown (same kind, code and message). */
function itemError(answer: GraphBatchResponse, path: string): GraphApiError {
  if (answer.status === 0) {
    return new GraphApiError({ kind: 'server', status: 0, code: GraphErrorCode.InvalidResponse, message: `Graph $batch answered without an answer for PATCH ${path}` });
  }
  return classifyGraphResponse({ status: answer.status, body: answer.text, headers: answer.headers, method: 'PATCH', path });
}
