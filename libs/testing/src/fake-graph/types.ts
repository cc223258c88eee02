import type { FakeEntraId } from '../fake-entra';

export interface FakeGraphOptions {
  /** Bearer tokens are checked against it (introspection for validity, JWT claims for roles/scopes). */
  entra: FakeEntraId;
  /** Clock in ms (subscription expiry, receivedDateTime, error dates). Default Date.now. */
  now?: () => number;
  /** POST/PATCH of a subscription beyond now + this → 400, as Graph does. Default 10070. */
  maxSubscriptionMinutes?: number;
  /** Our endpoint must answer the validationToken handshake within this. Default 10 000 (Graph's figure). */
  validationTimeoutMs?: number;
  /** Page size of message delta without `Prefer: odata.maxpagesize`. Default 10, as Graph. */
  defaultPageSize?: number;
  /** A change/lifecycle POST slower than this counts as failed. Default 3 000 (Graph's figure). */
  notificationTimeoutMs?: number;
  /** In-flight requests per (mailbox, app) before 429 ApplicationThrottled "MailboxConcurrency". Default 4. */
  maxConcurrentRequestsPerMailbox?: number;
  /** Extra CA (PEM) trusted when a notification URL is https (Graph itself only calls https). */
  notificationCa?: string;
}

export interface FakeGraphEmailAddress {
  name: string;
  address: string;
}

export interface FakeGraphRecipient {
  emailAddress: FakeGraphEmailAddress;
}

/** What a test may set on a delivered message; everything has a default. Addresses may be plain strings. */
export interface FakeGraphMessageInput {
  subject: string;
  from: FakeGraphRecipient | string;
  toRecipients: Array<FakeGraphRecipient | string>;
  /** ISO date; default: the fake clock at delivery. */
  receivedDateTime: string;
  sentDateTime: string;
  internetMessageId: string;
  hasAttachments: boolean;
  isRead: boolean;
  bodyPreview: string;
  /** The MIME Graph serves at `/$value` (default: a plain-text message built from the fields). */
  mime: Buffer | string;
  /** File attachments (served at `/attachments`); `hasAttachments` follows them. */
  attachments: FakeGraphAttachmentInput[];
}

export interface FakeGraphAttachmentInput {
  name: string;
  contentType: string;
  content: Buffer;
  isInline?: boolean;
  contentId?: string;
}

/** A snapshot of a stored message (later changes are not reflected in it). */
export interface FakeGraphMessage {
  /** The immutable id (same as `immutableId`): stable across moves, what `Prefer: IdType="ImmutableId"` clients see. */
  id: string;
  immutableId: string;
  /** The regular REST id: what clients see without the Prefer header; changes when the message moves. */
  regularId: string;
  userId: string;
  internetMessageId: string;
  subject: string;
  from: FakeGraphRecipient;
  toRecipients: FakeGraphRecipient[];
  receivedDateTime: string;
  sentDateTime: string;
  hasAttachments: boolean;
  isRead: boolean;
  bodyPreview: string;
  parentFolderId: string;
  changeKey: string;
  /** The `@odata.etag` value: W/"<changeKey>". */
  etag: string;
}

export type FakeGraphChangeType = 'created' | 'updated' | 'deleted';
export type FakeGraphLifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

/** A live subscription (a copy; changing it changes nothing). */
export interface FakeGraphSubscription {
  id: string;
  /** As the client sent it. */
  resource: string;
  changeType: string;
  changeTypes: FakeGraphChangeType[];
  notificationUrl: string;
  lifecycleNotificationUrl?: string;
  clientState?: string;
  /** As Graph renders it (7 fractional digits, Z). */
  expirationDateTime: string;
  /** ms, by the fake clock */
  expiresAt: number;
  applicationId: string;
  creatorId: string;
  tenantId: string;
  latestSupportedTlsVersion: string;
  /** The mailbox the resource resolves to. */
  userId: string;
  email: string;
  /** The folder watched; undefined for `…/messages` (the whole mailbox). */
  folderId?: string;
  /** Created with `Prefer: IdType="ImmutableId"`: notifications carry immutable ids. */
  immutableIds: boolean;
  /** After a reauthorizationRequired lifecycle event until PATCH or /reauthorize: notifications are lost. */
  reauthorizationRequired: boolean;
  createdAt: number;
}

/** One Graph API request the fake answered. */
export interface FakeGraphRequest {
  method: string;
  /** Path without the query, as sent (still URL-encoded). */
  path: string;
  query: Record<string, string>;
  status: number;
  /** Fake clock when the request arrived. */
  at: number;
  /** Mailbox the request touched (also set for subscription requests on a mailbox resource). */
  email?: string;
  /** Calling app (token's appid) when the token was valid. */
  appId?: string;
  /** Wall clock (Date.now) when the request arrived and when its response ended: real durations. */
  startedAt: number;
  endedAt: number;
  requestId: string;
}

/** One POST the fake made to our endpoints. */
export interface FakeGraphDelivery {
  kind: 'change' | 'lifecycle' | 'validation';
  url: string;
  /** First subscription in the batch (undefined for a validation of a not yet created subscription). */
  subscriptionId?: string;
  subscriptionIds: string[];
  itemCount: number;
  /** HTTP status we answered; 0 = no answer (connection error or timeout). */
  status: number;
  /** Wall-clock milliseconds until our answer (or the failure). */
  ms: number;
  /** 1-based attempt number for this batch. */
  attempt: number;
  /** Fake clock when the POST started. */
  at: number;
  /** Why it failed, when it did ("timeout", "ECONNREFUSED", "body mismatch", …). */
  error?: string;
  /** The JSON body sent (change and lifecycle kinds). */
  payload?: unknown;
}

/** A change notification Graph gave up on (retries exhausted, or the subscription waited for reauthorization). */
export interface FakeGraphLostNotification {
  subscriptionId: string;
  messageId: string;
  changeType: FakeGraphChangeType;
  reason: 'delivery-failed' | 'reauthorization-required';
}

export interface FakeGraphThrottleOptions {
  status?: 429 | 503;
  retryAfterSeconds?: number;
  /** Only requests touching this mailbox consume the throttling. */
  email?: string;
}

/** A message the fake sent for a mailbox (sendMail or a draft's /send), as it received it. */
export interface FakeGraphSentMail {
  /** The sending mailbox. */
  email: string;
  /** `sendMail` with base64 MIME (text/plain) or a JSON message, or a draft's `/send`. */
  via: 'sendMail-mime' | 'sendMail-json' | 'draft';
  /** The MIME as received (sendMail MIME) or as the fake composed it (JSON, drafts). */
  mime: Buffer;
  internetMessageId: string;
  subject: string;
  /** Every recipient (to, cc, bcc), lower-case. */
  recipients: string[];
  attachments: Array<{ name: string; contentType: string; content: Buffer; isInline: boolean; via: 'mime' | 'json' | 'post' | 'uploadSession' }>;
  /** The id of the copy in Sent Items (null: sendMail JSON with saveToSentItems false). */
  sentItemId: string | null;
}

/** One PUT to an upload session's URL. */
export interface FakeGraphUploadChunk {
  sessionToken: string;
  /** The Content-Range header as sent. */
  contentRange: string;
  bytes: number;
  status: number;
  /** The PUT carried an Authorization header (Graph documents it must not). */
  withAuthorization: boolean;
}

/** A fault the next matching request answers with (`failNext`). */
export interface FakeGraphFault {
  status: number;
  code: string;
  message: string;
  retryAfterSeconds?: number;
  /** Only requests touching this mailbox. */
  email?: string;
  /** Only requests whose path (URL-encoded, without the query) matches. */
  path?: RegExp;
}
