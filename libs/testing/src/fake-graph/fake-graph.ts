import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeEntraId } from '../fake-entra';
import { sleep } from '../fake-entra/http';
import { listenForInstance, type ListeningServer } from '../fake-entra/tls';
import { authenticate } from './auth';
import { DeltaTracker } from './delta';
import { GraphError, GraphErrors, graphErrorBody } from './graph-errors';
import { etag, MailStore, snapshot, type Mailbox, type StoredMessage } from './mail-store';
import { handleBatch } from './batch-route';
import { handleMailbox } from './mailbox-routes';
import { Notifier, type NotificationKind, type QueuedNotification } from './notifier';
import { header } from './odata';
import { post } from './outbound';
import { sendGraphJson, type GraphCall } from './runtime';
import { handleUpload, type SendRuntime } from './send-routes';
import { SendStore } from './send-store';
import { handleSubscriptions } from './subscription-routes';
import { SubscriptionRegistry, type SubscriptionRecord } from './subscriptions';
import type {
  FakeGraphChangeType,
  FakeGraphDelivery,
  FakeGraphFault,
  FakeGraphLifecycleEvent,
  FakeGraphLostNotification,
  FakeGraphMessage,
  FakeGraphMessageInput,
  FakeGraphOptions,
  FakeGraphRequest,
  FakeGraphSentMail,
  FakeGraphSubscription,
  FakeGraphThrottleOptions,
  FakeGraphUploadChunk,
} from './types';
import { validateEndpoint } from './validation';

interface ThrottleRule {
  remaining: number;
  /** What the request is answered with. */
  error: () => GraphError;
  email?: string;
  path?: RegExp;
}

/** Per-request state the pipeline needs besides what the routes see. */
interface PipelineState {
  /** The request path (the response delay may apply to some paths only). */
  path: string;
  delayed: boolean;
  /** Throttled or over the concurrency limit: answered at once, without the response delay. */
  rejected: boolean;
  release?: () => void;
}

/**
 * A fake Microsoft Graph on http://127.0.0.1:<port>/v1.0 for mail change notifications: mailboxes with
 * well-known folders, `/subscriptions` (create with the validationToken handshake against our
 * endpoints, renew, delete, reauthorize; 404 ResourceNotFound once gone or expired by the fake clock),
 * change and lifecycle notification POSTs (batched, retried, pausable), message delta with
 * nextLink/deltaLink and 410 after a reset, and Exchange's throttling (429 + Retry-After, at most 4
 * concurrent requests per mailbox and app), and JSON `$batch` (up to 20 requests, each run as a request of
 * its own). Bearer tokens must come from the fake Entra ID given.
 */
export class FakeGraph {
  /** `http://127.0.0.1:<port>/v1.0` */
  readonly baseUrl: string;

  private readonly entra: FakeEntraId;
  private readonly now: () => number;
  private readonly store: MailStore;
  private readonly registry: SubscriptionRegistry;
  private readonly delta: DeltaTracker;
  private readonly notifier: Notifier;
  private readonly runtime: SendRuntime;
  private readonly sends = new SendStore();
  private readonly maxSubscriptionMinutes: number;
  private readonly validationTimeoutMs: number;
  private readonly notificationTimeoutMs: number;
  private readonly maxConcurrent: number;
  private readonly notificationCa?: string;
  private readonly stopping = new AbortController();
  private readonly requestLog: FakeGraphRequest[] = [];
  private readonly deliveries: FakeGraphDelivery[] = [];
  private readonly lost: FakeGraphLostNotification[] = [];
  private readonly throttles: ThrottleRule[] = [];
  private readonly inFlightPerApp = new Map<string, number>();
  private readonly inFlightPerMailbox = new Map<string, number>();
  private readonly maxInFlight = new Map<string, number>();
  private readonly pipeline = new WeakMap<GraphCall, PipelineState>();
  private responseDelayMs = 0;
  private responseDelayPaths: RegExp | null = null;

  private constructor(
    private readonly server: ListeningServer,
    options: FakeGraphOptions,
  ) {
    this.baseUrl = `http://127.0.0.1:${server.port}/v1.0`;
    // Every handshake in flight listens on it: hundreds of subscriptions created at once are normal here.
    setMaxListeners(0, this.stopping.signal);
    this.entra = options.entra;
    this.now = options.now ?? Date.now;
    this.maxSubscriptionMinutes = options.maxSubscriptionMinutes ?? 10070;
    this.validationTimeoutMs = options.validationTimeoutMs ?? 10_000;
    this.notificationTimeoutMs = options.notificationTimeoutMs ?? 3_000;
    this.maxConcurrent = options.maxConcurrentRequestsPerMailbox ?? 4;
    this.notificationCa = options.notificationCa;
    this.store = new MailStore(this.now);
    this.registry = new SubscriptionRegistry(this.now);
    this.delta = new DeltaTracker((mailbox, folder) => this.store.messagesIn(mailbox, folder));
    this.notifier = new Notifier({
      now: this.now,
      timeoutMs: this.notificationTimeoutMs,
      ca: this.notificationCa,
      record: (delivery) => this.deliveries.push(delivery),
      isLive: (id) => this.registry.get(id) !== undefined,
      onDropped: (kind, _url, items) => this.dropped(kind, items),
    });
    const defaultPageSize = options.defaultPageSize ?? 10;
    this.runtime = {
      baseUrl: this.baseUrl,
      now: this.now,
      store: this.store,
      registry: this.registry,
      delta: this.delta,
      maxSubscriptionMinutes: this.maxSubscriptionMinutes,
      defaultPageSize,
      sends: this.sends,
      origin: new URL(this.baseUrl).origin,
      deliverTo: (email, message, folder) => this.deliver(email, message, folder),
      admit: (call, email) => this.admit(call, email),
      admitMailbox: (call, mailbox) => this.admitMailbox(call, mailbox),
      validateEndpoint: (url, subscriptionId) =>
        validateEndpoint(
          url,
          {
            timeoutMs: this.validationTimeoutMs,
            ca: this.notificationCa,
            now: this.now,
            signal: this.stopping.signal,
            record: (delivery) => this.deliveries.push(delivery),
          },
          subscriptionId,
        ),
    };
  }

  static async start(options: FakeGraphOptions): Promise<FakeGraph> {
    const { server, attach } = await listenForInstance('generalException');
    const graph = new FakeGraph(server, options);
    attach((req, res) => graph.handle(req, res));
    return graph;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.notifier.stop();
    await this.server.close();
  }

  // ---------------------------------------------------------------- mailboxes and messages

  /** A mailbox with inbox, sentitems, drafts, deleteditems, archive; its id is the Entra user's oid when there is one. */
  addUser(email: string): { id: string } {
    const existing = this.store.findMailbox(email);
    if (existing) return { id: existing.id };
    const user = this.entra.getUser(email);
    const domain = email.split('@')[1] ?? 'example.com';
    const local = email.split('@')[0] ?? email;
    const mailbox = this.store.addMailbox({
      id: user?.oid ?? randomUUID(),
      email,
      tenantId: user?.tenantId ?? this.entra.tenantIdFor(domain),
      displayName: user?.displayName ?? local.replace(/[._-]+/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase()),
    });
    return { id: mailbox.id };
  }

  /** `parent`: well-known name or folder id (default: the root, next to inbox). */
  addFolder(email: string, displayName: string, parent?: string): { id: string } {
    const mailbox = this.store.mailbox(email);
    return { id: this.store.addFolder(mailbox, displayName, parent).id };
  }

  /** The id of a folder given by well-known name (`inbox`) or id. */
  folderId(email: string, folder: string): string {
    const mailbox = this.store.mailbox(email);
    return this.store.folder(mailbox, folder).id;
  }

  /** Stores a new message and queues `created` notifications (sent asynchronously; this returns at once). */
  deliver(email: string, message: Partial<FakeGraphMessageInput> = {}, folder = 'inbox'): FakeGraphMessage {
    const mailbox = this.store.mailbox(email);
    const target = this.store.folder(mailbox, folder);
    const stored = this.store.deliver(mailbox, target, message);
    this.notify(mailbox, stored, 'created', stored.regularId, (s) => s.folderId === undefined || s.folderId === target.id);
    return snapshot(mailbox, stored);
  }

  /** `count` messages at once; their notifications share POSTs (up to 100 per POST). */
  deliverMany(email: string, count: number, folder = 'inbox'): FakeGraphMessage[] {
    return Array.from({ length: count }, () => this.deliver(email, {}, folder));
  }

  /** A change of an existing message: delta reports it (same id, new changeKey), `updated` subscribers are told. */
  updateMessage(email: string, id: string, patch: { isRead?: boolean; subject?: string }): void {
    const mailbox = this.store.mailbox(email);
    const message = this.store.message(mailbox, id);
    this.store.update(mailbox, message, patch);
    this.notify(mailbox, message, 'updated', message.regularId, (s) => s.folderId === undefined || s.folderId === message.folderId);
  }

  /** A hard delete: delta reports `@removed`, `deleted` subscribers are told. */
  deleteMessage(email: string, id: string): void {
    const mailbox = this.store.mailbox(email);
    const message = this.store.message(mailbox, id);
    const folderId = message.folderId;
    const regularId = this.store.remove(mailbox, message);
    this.notify(mailbox, message, 'deleted', regularId, (s) => s.folderId === undefined || s.folderId === folderId);
  }

  /**
   * Moves a message: the immutable id stays, the regular id changes. The source folder's delta reports it
   * removed (under its old regular id), the target's as new; folder subscribers get deleted/created,
   * whole-mailbox subscribers `updated`.
   */
  moveMessage(email: string, id: string, toFolder: string): FakeGraphMessage {
    const mailbox = this.store.mailbox(email);
    const message = this.store.message(mailbox, id);
    const to = this.store.folder(mailbox, toFolder);
    const { from, oldRegularId } = this.store.move(mailbox, message, to);
    if (from.id !== to.id) {
      this.notify(mailbox, message, 'deleted', oldRegularId, (s) => s.folderId === from.id);
      this.notify(mailbox, message, 'created', message.regularId, (s) => s.folderId === to.id);
      this.notify(mailbox, message, 'updated', message.regularId, (s) => s.folderId === undefined);
    }
    return snapshot(mailbox, message);
  }

  /** A message by either id kind (undefined once deleted, or for a regular id from before a move). */
  message(email: string, id: string): FakeGraphMessage | undefined {
    const mailbox = this.store.mailbox(email);
    const message = this.store.findMessage(mailbox, id);
    return message ? snapshot(mailbox, message) : undefined;
  }

  /** Messages of a folder, in delivery order. */
  messages(email: string, folder = 'inbox'): FakeGraphMessage[] {
    const mailbox = this.store.mailbox(email);
    return this.store.messagesIn(mailbox, this.store.folder(mailbox, folder)).map((m) => snapshot(mailbox, m));
  }

  /** Every delta and skip token issued for this mailbox so far answers 410 Gone (SyncStateNotFound). */
  resetDeltaState(email: string): void {
    this.store.resetDeltaState(this.store.mailbox(email));
  }

  // ---------------------------------------------------------------- subscriptions

  /** Live subscriptions (copies); expired ones are gone by the fake clock. */
  get subscriptions(): FakeGraphSubscription[] {
    return this.registry.live().map(copySubscription);
  }

  subscription(id: string): FakeGraphSubscription | undefined {
    const sub = this.registry.get(id);
    return sub ? copySubscription(sub) : undefined;
  }

  /** Graph removing a subscription: gone at once, and a `subscriptionRemoved` lifecycle POST when it has a lifecycle URL. */
  removeSubscription(id: string, sendLifecycle = true): void {
    const sub = this.registry.delete(id);
    if (!sub || !sendLifecycle || !sub.lifecycleNotificationUrl) return;
    this.notifier.enqueue('lifecycle', sub.lifecycleNotificationUrl, { subscriptionId: sub.id, item: lifecycleItem(sub, 'subscriptionRemoved') });
  }

  /**
   * POSTs one lifecycle notification now (one attempt) and returns our status (0: no answer; also 0
   * without a POST when the subscription has no lifecycleNotificationUrl, as Graph then sends none).
   * `reauthorizationRequired` also holds the subscription's change notifications back (they are lost)
   * until it is PATCHed or reauthorized. Only POSTs: `removeSubscription` is what removes one.
   */
  async sendLifecycle(subscriptionId: string, event: FakeGraphLifecycleEvent): Promise<number> {
    const sub = this.registry.get(subscriptionId);
    if (!sub) throw new Error(`FakeGraph: no live subscription ${subscriptionId}`);
    if (event === 'reauthorizationRequired') sub.reauthorizationRequired = true;
    if (!sub.lifecycleNotificationUrl) return 0;
    return this.notifier.sendOnce('lifecycle', sub.lifecycleNotificationUrl, [{ subscriptionId: sub.id, item: lifecycleItem(sub, event) }]);
  }

  /** POSTs any JSON to a URL (forged or replayed notifications in tests). */
  async sendRaw(url: string, body: unknown): Promise<{ status: number; ms: number; text: string }> {
    const result = await post(url, JSON.stringify(body), { 'Content-Type': 'application/json; charset=utf-8' }, { timeoutMs: 30_000 });
    return { status: result.status, ms: result.ms, text: result.text };
  }

  // ---------------------------------------------------------------- notifications

  /** Every POST made to our endpoints (validation, change, lifecycle), each attempt separately. */
  get notificationDeliveries(): FakeGraphDelivery[] {
    return [...this.deliveries];
  }

  /** Change notifications Graph gave up on (all retries failed, or the subscription awaited reauthorization). */
  get lostNotifications(): FakeGraphLostNotification[] {
    return [...this.lost];
  }

  /** Default 3 attempts, 200 ms apart (Graph retries for hours; tests need it short). */
  setNotificationRetry(options: { attempts: number; delayMs: number }): void {
    this.notifier.setRetry(options);
  }

  pauseNotifications(): void {
    this.notifier.pause();
  }

  /** Sends what was queued while paused; resolves when all of it is delivered or dropped. */
  resumeNotifications(): Promise<void> {
    return this.notifier.resume();
  }

  /** Resolves when no notification POST is in flight or due. */
  notificationsSettled(): Promise<void> {
    return this.notifier.settled();
  }

  // ---------------------------------------------------------------- throttling, timing, request log

  /** The next `count` API requests (touching that mailbox when `email` is set) answer 429/503 with Retry-After. */
  throttleNext(count: number, options: FakeGraphThrottleOptions = {}): void {
    const status = options.status ?? 429;
    const retryAfterSeconds = options.retryAfterSeconds ?? 1;
    this.throttles.push({ remaining: count, error: () => GraphErrors.throttled(status, retryAfterSeconds), email: options.email?.toLowerCase() });
  }

  /**
   * The next `count` API requests matching (`email`: touching that mailbox; `path`: its path) answer with
   * this Graph error (status, code, message; Retry-After when given). Shares the queue with throttleNext.
   */
  failNext(count: number, fault: FakeGraphFault): void {
    const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'Retry-After': String(fault.retryAfterSeconds) } : {};
    this.throttles.push({ remaining: count, error: () => new GraphError(fault.status, fault.code, fault.message, headers), email: fault.email?.toLowerCase(), path: fault.path });
  }

  // ---------------------------------------------------------------- sending

  /** Messages sent (sendMail, drafts' /send), in order; each is also in the sender's Sent Items and known recipients' inboxes. */
  get sentMail(): FakeGraphSentMail[] {
    return [...this.sends.sent];
  }

  /** Every PUT to an upload session URL, in order. */
  get uploadChunks(): FakeGraphUploadChunk[] {
    return [...this.sends.chunks];
  }

  /** Drafts created and neither sent nor deleted. */
  get draftCount(): number {
    return this.sends.drafts.size;
  }

  /**
   * Every API response is held back this long (to measure a client's own overhead above Graph's), or
   * only those whose path matches `paths` (to hold some folders back while others go ahead).
   */
  setResponseDelay(ms: number, paths?: RegExp): void {
    this.responseDelayMs = Math.max(0, ms);
    this.responseDelayPaths = paths ?? null;
  }

  get requests(): FakeGraphRequest[] {
    return [...this.requestLog];
  }

  /** Highest number of simultaneous requests seen on this mailbox's resources (all apps, rejected ones included). */
  maxConcurrentRequests(email: string): number {
    const mailbox = this.store.findMailbox(email);
    return mailbox ? (this.maxInFlight.get(mailbox.id) ?? 0) : 0;
  }

  // ---------------------------------------------------------------- internals: notifications

  private notify(
    mailbox: Mailbox,
    message: StoredMessage,
    change: FakeGraphChangeType,
    regularId: string,
    watches: (sub: SubscriptionRecord) => boolean,
  ): void {
    for (const sub of this.registry.live()) {
      if (sub.userId !== mailbox.id || !sub.changeTypes.includes(change) || !watches(sub)) continue;
      const id = sub.immutableIds ? message.immutableId : regularId;
      if (sub.reauthorizationRequired) {
        this.lost.push({ subscriptionId: sub.id, messageId: id, changeType: change, reason: 'reauthorization-required' });
        continue;
      }
      const resource = `Users/${mailbox.id}/Messages/${id}`;
      this.notifier.enqueue('change', sub.notificationUrl, {
        subscriptionId: sub.id,
        messageId: id,
        changeType: change,
        item: {
          subscriptionId: sub.id,
          subscriptionExpirationDateTime: sub.expirationDateTime,
          changeType: change,
          resource,
          resourceData: { '@odata.type': '#Microsoft.Graph.Message', '@odata.id': resource, '@odata.etag': etag(message), id },
          clientState: sub.clientState ?? null,
          tenantId: sub.tenantId,
        },
      });
    }
  }

  /** After the last failed attempt: the notifications are lost, and Graph tells the lifecycle URL (`missed`). */
  private dropped(kind: NotificationKind, items: QueuedNotification[]): void {
    if (kind !== 'change') return;
    const missed = new Set<string>();
    for (const item of items) {
      this.lost.push({ subscriptionId: item.subscriptionId, messageId: item.messageId ?? '', changeType: item.changeType ?? 'created', reason: 'delivery-failed' });
      missed.add(item.subscriptionId);
    }
    for (const id of missed) {
      const sub = this.registry.get(id);
      if (sub?.lifecycleNotificationUrl) this.notifier.enqueue('lifecycle', sub.lifecycleNotificationUrl, { subscriptionId: id, item: lifecycleItem(sub, 'missed') });
    }
  }

  // ---------------------------------------------------------------- internals: HTTP pipeline

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const clientRequestId = header(req, 'client-request-id') ?? requestId;
    res.setHeader('request-id', requestId);
    res.setHeader('client-request-id', clientRequestId);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const entry: FakeGraphRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
      at: this.now(),
      startedAt: Date.now(),
      endedAt: 0,
      requestId,
    };
    this.requestLog.push(entry);
    const state: PipelineState = { path: url.pathname, delayed: false, rejected: false };
    const done = () => {
      if (!entry.endedAt) {
        entry.status = res.statusCode;
        entry.endedAt = Date.now();
      }
      state.release?.();
    };
    res.on('finish', done);
    res.on('close', done);
    try {
      await this.route(req, res, url, entry, state);
    } catch (error) {
      const graphError =
        error instanceof GraphError ? error : new GraphError(500, 'generalException', `An internal server error occurred: ${String(error)}`);
      if (!state.delayed && !state.rejected) await this.delay(state);
      this.sendError(res, graphError, requestId, clientRequestId);
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL, entry: FakeGraphRequest, state: PipelineState): Promise<void> {
    const segments = url.pathname.split('/').filter(Boolean).map(decodeSegment);
    // Upload session URLs: pre-authenticated (no bearer token), outside the versioned API.
    if (segments[0] === 'upload') {
      this.takeThrottle(state, undefined);
      return handleUpload(this.runtime, req, res, url);
    }
    const [version, ...rest] = segments;
    if (version !== 'v1.0' && version !== 'beta') throw GraphErrors.invalidVersion(version ?? '');
    const caller = authenticate(this.entra, req);
    entry.appId = caller.appId;
    const call: GraphCall = { req, res, url, entry, caller };
    this.pipeline.set(call, state);
    const head = rest[0]?.toLowerCase() ?? '';
    if (head === '$batch' && rest.length === 1) return handleBatch(call, `${new URL(this.baseUrl).origin}/${version}`);
    if (head === 'subscriptions') return handleSubscriptions(this.runtime, call, rest.slice(1));
    if (head === 'me' || head === 'users' || head.startsWith('users(')) return handleMailbox(this.runtime, call, rest);
    throw GraphErrors.unknownSegment(rest[0] ?? '');
  }

  private stateOf(call: GraphCall): PipelineState {
    const state = this.pipeline.get(call);
    if (!state) throw new Error('FakeGraph: request outside the pipeline');
    return state;
  }

  private async admit(call: GraphCall, email?: string): Promise<void> {
    const state = this.stateOf(call);
    this.takeThrottle(state, email);
    await this.delay(state);
  }

  /** Counts the request against the mailbox (per app: Exchange's limit is per mailbox and app). */
  private async admitMailbox(call: GraphCall, mailbox: Mailbox): Promise<void> {
    const state = this.stateOf(call);
    const pair = `${mailbox.id} ${call.caller.appId}`;
    const perApp = (this.inFlightPerApp.get(pair) ?? 0) + 1;
    const perMailbox = (this.inFlightPerMailbox.get(mailbox.id) ?? 0) + 1;
    this.inFlightPerApp.set(pair, perApp);
    this.inFlightPerMailbox.set(mailbox.id, perMailbox);
    this.maxInFlight.set(mailbox.id, Math.max(this.maxInFlight.get(mailbox.id) ?? 0, perMailbox));
    let released = false;
    state.release = () => {
      if (released) return;
      released = true;
      this.inFlightPerApp.set(pair, (this.inFlightPerApp.get(pair) ?? 1) - 1);
      this.inFlightPerMailbox.set(mailbox.id, (this.inFlightPerMailbox.get(mailbox.id) ?? 1) - 1);
    };
    if (perApp > this.maxConcurrent) {
      state.rejected = true;
      throw GraphErrors.mailboxConcurrency();
    }
    this.takeThrottle(state, mailbox.email);
    await this.delay(state);
  }

  private takeThrottle(state: PipelineState, email?: string): void {
    const index = this.throttles.findIndex((t) => t.remaining > 0 && (!t.email || t.email === email) && (!t.path || t.path.test(state.path)));
    if (index < 0) return;
    const rule = this.throttles[index] as ThrottleRule;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.throttles.splice(index, 1);
    state.rejected = true;
    throw rule.error();
  }

  private async delay(state: PipelineState): Promise<void> {
    state.delayed = true;
    if (this.responseDelayMs > 0 && (!this.responseDelayPaths || this.responseDelayPaths.test(state.path))) await sleep(this.responseDelayMs);
  }

  private sendError(res: ServerResponse, error: GraphError, requestId: string, clientRequestId: string): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const headers: Record<string, string> = { ...error.headers };
    if (error.status === 401) {
      headers['WWW-Authenticate'] =
        'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"';
    }
    sendGraphJson(res, error.status, graphErrorBody(error, { now: this.now(), requestId, clientRequestId }), headers);
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function lifecycleItem(sub: SubscriptionRecord, event: FakeGraphLifecycleEvent): Record<string, unknown> {
  return {
    subscriptionId: sub.id,
    subscriptionExpirationDateTime: sub.expirationDateTime,
    tenantId: sub.tenantId,
    clientState: sub.clientState ?? null,
    lifecycleEvent: event,
  };
}

function copySubscription(sub: SubscriptionRecord): FakeGraphSubscription {
  return { ...sub, changeTypes: [...sub.changeTypes] };
}
