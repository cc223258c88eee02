import { MalformedNotificationError } from './intake-errors';

/** The two receiver URLs: change notifications, and lifecycle notifications (lifecycleNotificationUrl). */
export type GraphEndpoint = 'notifications' | 'lifecycle';

/**
 * Items of one POST that are read at most. Graph documents no maximum, only that it "may send multiple
 * notifications in the same POST" when many changes queue up; a Graph message notification is ~600 bytes,
 * so the 1 MiB body limit already means at most ~1,700 real ones. Without a bound, a 1 MiB POST of
 * 13,000 short made-up items cost a 13,000-id query (~250 ms); 1,000 is generous for Graph and keeps the
 * worst case to one small query. Items beyond it are dropped as invalid: a change they stood for is still
 * found by the next delta round of its folder (any later notification or the periodic safety sweep).
 */
export const MAX_NOTIFICATIONS_PER_POST = 1_000;

/**
 * One item of a notification POST with the fields we read type-checked. Other fields (tenantId, resource,
 * subscriptionExpirationDateTime, encrypted content…) are ignored: the listener reads the folder through
 * delta, never from the notification.
 */
export interface ReceivedNotification {
  subscriptionId: string;
  /** Absent means forged: every subscription we create has one. Never logged. */
  clientState: string | undefined;
  changeType: string | undefined;
  /** resourceData.id: the message id of a change notification. */
  resourceId: string | undefined;
  lifecycleEvent: string | undefined;
}

/** An item that is not a well-formed Graph notification: where it is and what is wrong, never its content. */
export interface RejectedNotification {
  path: string;
  problem: string;
}

export interface NotificationCollection {
  /** Well-formed items, in the order Graph sent them: these are looked up and classified. */
  received: ReceivedNotification[];
  /** Malformed items, dropped before any lookup and counted as invalid. */
  rejected: RejectedNotification[];
  /** Items beyond MAX_NOTIFICATIONS_PER_POST, not read at all (counted as invalid too). */
  unread: number;
}

type Json = Record<string, unknown>;

/** Graph subscription ids are GUIDs: anything else is not ours and is not worth a query. */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** NUL (Postgres text refuses it) or a UTF-16 surrogate without its pair (not encodable as UTF-8). */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

class ItemProblem extends Error {}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(item: Json, field: string, path: string): string | undefined {
  const value = item[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ItemProblem(`${path}.${field}: must be a string`);
  if (UNSTORABLE.test(value)) throw new ItemProblem(`${path}.${field}: must not contain NUL characters or lone surrogates`);
  return value;
}

function parseItem(item: unknown, path: string): ReceivedNotification {
  if (!isObject(item)) throw new ItemProblem(`${path}: must be an object (a change or lifecycle notification)`);
  const subscriptionId = item.subscriptionId;
  if (typeof subscriptionId !== 'string' || !GUID.test(subscriptionId)) {
    throw new ItemProblem(`${path}.subscriptionId: must be a Graph subscription id (a GUID)`);
  }
  let resourceId: string | undefined;
  const resourceData = item.resourceData;
  if (resourceData !== undefined && resourceData !== null) {
    if (!isObject(resourceData)) throw new ItemProblem(`${path}.resourceData: must be an object`);
    resourceId = optionalString(resourceData, 'id', `${path}.resourceData`);
  }
  return {
    subscriptionId,
    clientState: optionalString(item, 'clientState', path),
    changeType: optionalString(item, 'changeType', path),
    resourceId,
    lifecycleEvent: optionalString(item, 'lifecycleEvent', path),
  };
}

/**
 * Reads Graph's notification collection `{ value: [ … ] }`. A body of another shape is a
 * MalformedNotificationError naming the problem (400: not Graph). Within the collection each item stands
 * alone: a malformed one (`value[2].subscriptionId: must be a Graph subscription id`) is rejected and the
 * others are kept, because Graph delivers a batch again after any non-2xx answer, which would refuse
 * the good items with it for hours. Items beyond MAX_NOTIFICATIONS_PER_POST are not read (`unread`).
 */
export function parseNotificationCollection(body: unknown): NotificationCollection {
  if (!isObject(body)) {
    throw new MalformedNotificationError('Request body must be a JSON object { "value": [ … ] } (a Graph notification collection)');
  }
  const value = body.value;
  if (!Array.isArray(value)) throw new MalformedNotificationError('value: must be an array of notifications');
  const collection: NotificationCollection = { received: [], rejected: [], unread: Math.max(value.length - MAX_NOTIFICATIONS_PER_POST, 0) };
  value.slice(0, MAX_NOTIFICATIONS_PER_POST).forEach((item, index) => {
    try {
      collection.received.push(parseItem(item, `value[${index}]`));
    } catch (error) {
      if (!(error instanceof ItemProblem)) throw error;
      collection.rejected.push({ path: `value[${index}]`, problem: error.message });
    }
  });
  return collection;
}

/** How many items a rejected body claimed to carry (for the `invalid` counter): its array's length, else 1. */
export function claimedItemCount(body: unknown): number {
  return isObject(body) && Array.isArray(body.value) && body.value.length > 0 ? body.value.length : 1;
}
