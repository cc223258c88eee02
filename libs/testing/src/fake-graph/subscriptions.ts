import { GraphErrors } from './graph-errors';
import { graphDateTime, parseGraphDateTime } from './graph-ids';
import { parseSegment as segment } from './runtime';
import type { FakeGraphChangeType, FakeGraphSubscription } from './types';

const CHANGE_TYPES: FakeGraphChangeType[] = ['created', 'updated', 'deleted'];
const TLS_VERSIONS = ['v1_0', 'v1_1', 'v1_2', 'v1_3'];
const CLIENT_STATE_MAX = 128;

/** What a subscription `resource` names: a user (or `me`) and optionally one folder. */
export interface ParsedResource {
  user: { me: true } | { me: false; key: string };
  /** Well-known name or folder id; undefined = `…/messages` (every folder of the mailbox). */
  folder?: string;
}

/**
 * Mail resources Graph accepts for message subscriptions: `me/…` or `users/{id|upn}/…`, then
 * `messages` or `mailFolders('{name|id}')/messages` (also `mailFolders/{id}/messages`); a leading '/'
 * and any casing of the segment names are fine.
 */
export function parseResource(resource: string): ParsedResource | undefined {
  if (resource.includes('?')) return undefined;
  const raw = resource.replace(/^\/+/, '').replace(/\/+$/, '').split('/').map(decodeSafely);
  const parts = raw.map(segment);
  const isMessages = (p: { name: string; key?: string } | undefined) => p?.name === 'messages' && p.key === undefined;
  let user: ParsedResource['user'];
  let skip: number;
  const [first] = parts;
  if (first?.name === 'me' && first.key === undefined) [user, skip] = [{ me: true }, 1];
  else if (first?.name === 'users' && first.key !== undefined) [user, skip] = [{ me: false, key: first.key }, 1];
  else if (first?.name === 'users' && raw[1]) [user, skip] = [{ me: false, key: raw[1] }, 2];
  else return undefined;
  const rest = parts.slice(skip);
  const [folders] = rest;
  if (rest.length === 1 && isMessages(folders)) return { user };
  if (folders?.name !== 'mailfolders') return undefined;
  if (rest.length === 2 && folders.key !== undefined && isMessages(rest[1])) return { user, folder: folders.key };
  if (rest.length === 3 && folders.key === undefined && isMessages(rest[2])) return { user, folder: raw[skip + 1] };
  return undefined;
}

function decodeSafely(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export interface CreateSubscriptionInput {
  changeTypes: FakeGraphChangeType[];
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl?: string;
  resource: string;
  parsedResource: ParsedResource;
  expiresAt: number;
  clientState?: string;
  latestSupportedTlsVersion: string;
}

function url(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw GraphErrors.invalidRequest(`Subscription property '${name}' is required.`);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw GraphErrors.invalidRequest(`Invalid '${name}': '${value}' is not an absolute URL.`);
  }
  // Graph only accepts https; the fake takes http too because tests serve plain HTTP on loopback.
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw GraphErrors.invalidRequest(`Invalid '${name}': '${value}' must use the https scheme.`);
  }
  return value;
}

export function parseChangeType(value: unknown): { changeType: string; changeTypes: FakeGraphChangeType[] } {
  if (typeof value !== 'string' || value.trim() === '') throw GraphErrors.invalidRequest("Subscription property 'changeType' is required.");
  const parts = value.split(',').map((p) => p.trim());
  const changeTypes: FakeGraphChangeType[] = [];
  for (const part of parts) {
    if (!CHANGE_TYPES.includes(part as FakeGraphChangeType)) {
      throw GraphErrors.invalidRequest(`Invalid changeType '${part}'. Supported values are created, updated and deleted.`);
    }
    if (!changeTypes.includes(part as FakeGraphChangeType)) changeTypes.push(part as FakeGraphChangeType);
  }
  return { changeType: changeTypes.join(','), changeTypes };
}

/** An expirationDateTime must lie in the future and at most `maxMinutes` ahead (Graph's 400 otherwise). */
export function parseExpiration(value: unknown, now: number, maxMinutes: number): number {
  if (value === undefined || value === null || value === '') throw GraphErrors.invalidRequest("Subscription property 'expirationDateTime' is required.");
  const at = parseGraphDateTime(value);
  if (at === undefined) throw GraphErrors.invalidRequest(`Invalid expirationDateTime '${String(value)}'.`);
  if (at <= now) throw GraphErrors.invalidRequest('Subscription expiration must be in the future.');
  if (at > now + maxMinutes * 60_000) throw GraphErrors.expirationTooFar(maxMinutes);
  return at;
}

export function parseCreateBody(body: Record<string, unknown>, now: number, maxMinutes: number): CreateSubscriptionInput {
  const { changeType, changeTypes } = parseChangeType(body.changeType);
  const notificationUrl = url(body.notificationUrl, 'notificationUrl');
  const lifecycleNotificationUrl =
    body.lifecycleNotificationUrl === undefined || body.lifecycleNotificationUrl === null ? undefined : url(body.lifecycleNotificationUrl, 'lifecycleNotificationUrl');
  if (typeof body.resource !== 'string' || body.resource.trim() === '') throw GraphErrors.invalidRequest("Subscription property 'resource' is required.");
  const parsedResource = parseResource(body.resource.trim());
  if (!parsedResource) {
    throw GraphErrors.invalidRequest(
      `Resource '${body.resource}' is not supported. Use me/mailFolders('{id}')/messages, users/{id}/mailFolders('{id}')/messages or users/{id}/messages.`,
    );
  }
  let clientState: string | undefined;
  if (body.clientState !== undefined && body.clientState !== null) {
    if (typeof body.clientState !== 'string') throw GraphErrors.validationError('clientState must be a string.');
    if (body.clientState.length > CLIENT_STATE_MAX) throw GraphErrors.validationError(`clientState must be at most ${CLIENT_STATE_MAX} characters long.`);
    clientState = body.clientState;
  }
  let latestSupportedTlsVersion = 'v1_2';
  if (body.latestSupportedTlsVersion !== undefined && body.latestSupportedTlsVersion !== null) {
    if (typeof body.latestSupportedTlsVersion !== 'string' || !TLS_VERSIONS.includes(body.latestSupportedTlsVersion)) {
      throw GraphErrors.invalidRequest(`Invalid latestSupportedTlsVersion '${String(body.latestSupportedTlsVersion)}'. Supported values are ${TLS_VERSIONS.join(', ')}.`);
    }
    latestSupportedTlsVersion = body.latestSupportedTlsVersion;
  }
  if (body.includeResourceData === true) {
    // Rich notifications need an encryption certificate and encrypted resourceData; the fake does not do them.
    throw GraphErrors.invalidRequest('A valid encryptionCertificate is required when includeResourceData is true (not supported by the fake).');
  }
  const expiresAt = parseExpiration(body.expirationDateTime, now, maxMinutes);
  return {
    changeType,
    changeTypes,
    notificationUrl,
    lifecycleNotificationUrl,
    resource: body.resource,
    parsedResource,
    expiresAt,
    clientState,
    latestSupportedTlsVersion,
  };
}

/** Internal, mutable form. */
export type SubscriptionRecord = FakeGraphSubscription;

/** The subscription JSON as Graph returns it. */
export function renderSubscription(sub: SubscriptionRecord, context?: string): Record<string, unknown> {
  const body: Record<string, unknown> = context ? { '@odata.context': context } : {};
  return Object.assign(body, {
    id: sub.id,
    resource: sub.resource,
    applicationId: sub.applicationId,
    changeType: sub.changeType,
    clientState: sub.clientState ?? null,
    notificationUrl: sub.notificationUrl,
    notificationQueryOptions: null,
    lifecycleNotificationUrl: sub.lifecycleNotificationUrl ?? null,
    expirationDateTime: graphDateTime(sub.expiresAt),
    creatorId: sub.creatorId,
    includeResourceData: null,
    latestSupportedTlsVersion: sub.latestSupportedTlsVersion,
    encryptionCertificate: null,
    encryptionCertificateId: null,
    notificationUrlAppId: null,
  });
}

/** Live subscriptions; an expired one is gone the moment the fake clock passes its expiry (Graph deletes it). */
export class SubscriptionRegistry {
  private readonly records = new Map<string, SubscriptionRecord>();

  constructor(private readonly now: () => number) {}

  add(record: SubscriptionRecord): void {
    this.records.set(record.id, record);
  }

  get(id: string): SubscriptionRecord | undefined {
    const record = this.records.get(id);
    if (!record) return undefined;
    if (record.expiresAt <= this.now()) {
      this.records.delete(id);
      return undefined;
    }
    return record;
  }

  delete(id: string): SubscriptionRecord | undefined {
    const record = this.get(id);
    this.records.delete(id);
    return record;
  }

  live(): SubscriptionRecord[] {
    return [...this.records.keys()].map((id) => this.get(id)).filter((r): r is SubscriptionRecord => r !== undefined);
  }

  /** Subscriptions watching this folder (or the whole mailbox) for this kind of change. */
  matching(mailboxId: string, folderId: string, change: FakeGraphChangeType): SubscriptionRecord[] {
    return this.live().filter((s) => s.userId === mailboxId && (s.folderId === undefined || s.folderId === folderId) && s.changeTypes.includes(change));
  }
}

export function setExpiration(sub: SubscriptionRecord, expiresAt: number): void {
  sub.expiresAt = expiresAt;
  sub.expirationDateTime = graphDateTime(expiresAt);
}
