import type { MailAddress } from '@app/events';
import type { OutboundPolicy } from '@app/outbound';

export interface GraphMailboxClientOptions {
  /** e.g. https://graph.microsoft.com/v1.0 or the fake's baseUrl; a trailing slash is fine. */
  baseUrl: string;
  /** Email/UPN or object id: requests go to /users/{encodeURIComponent(user)}. */
  user: string;
  /**
   * Asked before every request (so the caller's cache decides when to refresh). After a 401 it is asked
   * once with forceRefresh: true and the request is sent once more; a second 401 is kind 'auth'.
   * Whatever it throws is passed through unchanged (e.g. the token store's invalid_grant).
   */
  accessToken: (options: { forceRefresh: boolean }) => Promise<string>;
  /** In-flight requests for this mailbox, default 4 (Exchange's MailboxConcurrency limit per mailbox and app). */
  maxConcurrent?: number;
  /** `Prefer: odata.maxpagesize` for delta, default 100. */
  pageSize?: number;
  /** Retries of 429/503/504/network failures, default 5; then kind 'throttled' (429) / 'server' (503, 504) / 'network'. */
  maxRetries?: number;
  /** Cap on one Retry-After wait, default 120 000 ms. */
  maxRetryAfterMs?: number;
  /** Per request attempt (headers and body), default 30 000 ms. */
  timeoutMs?: number;
  /** Metrics hook: called before each wait caused by 429/503/504 (with the wait actually used). */
  onThrottled?: (retryAfterMs: number, status: number) => void;
  /** Injectable for tests; default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** Extra CA (PEM) trusted for TLS to Graph (a private gateway or the TLS fake); uses an undici Agent. */
  caPem?: string;
  /**
   * The outbound policy every connection must pass (production: no internal address unless allow-listed,
   * https unless the address is); uses an undici Agent when enforced. Without it nothing is checked.
   */
  outbound?: OutboundPolicy;
  /** Replaces the HTTP transport (tests of pure logic); default the global fetch (or undici's with caPem or an enforced policy). */
  fetch?: typeof fetch;
  /**
   * Subscription renewals asked for within this many ms of each other go to Graph as one JSON `$batch`
   * (20 per batch at most); default 20. A renewal alone is a plain PATCH.
   */
  renewalBatchWindowMs?: number;
  /** Randomness for the backoff jitter (tests); default Math.random. */
  random?: () => number;
}

export interface GraphFolder {
  id: string;
  displayName: string;
  /** The well-known name it was resolved by (`inbox`, `archive`, …), null for a display-name path. */
  wellKnownName: string | null;
}

export interface GraphSubscription {
  id: string;
  resource: string;
  expirationDateTime: Date;
  clientState: string | null;
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
}

export interface GraphMessage {
  /** The immutable id (every request carries `Prefer: IdType="ImmutableId"`): stable across moves. */
  id: string;
  internetMessageId: string | null;
  subject: string | null;
  from: MailAddress | null;
  to: MailAddress[];
  cc: MailAddress[];
  /** As Graph renders it ("2026-11-21T10:00:00Z"). */
  receivedDateTime: string | null;
  parentFolderId: string | null;
}

export interface DeltaRound {
  /** Store it after the pages were handled; the next round starts from it. */
  deltaLink: string;
  /** HTTP pages fetched in this round (at least 1). */
  pages: number;
  /** Messages handed to onPage (removed entries not counted). */
  messages: number;
}

export type DeltaStart = { deltaLink: string } | { receivedSince: Date | null };
