import { MalformedNotificationError } from './intake-errors';

/** The two receiver URLs: change notifications, and lifecycle notifications (lifecycleNotificationUrl). */
export type GraphEndpoint = 'notifications' | 'lifecycle';

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

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(item: Json, field: string, path: string): string | undefined {
  const value = item[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new MalformedNotificationError(`${path}.${field}: must be a string`);
  return value;
}

function parseItem(item: unknown, path: string): ReceivedNotification {
  if (!isObject(item)) throw new MalformedNotificationError(`${path}: must be an object (a change or lifecycle notification)`);
  const subscriptionId = item.subscriptionId;
  if (typeof subscriptionId !== 'string' || subscriptionId.length === 0) {
    throw new MalformedNotificationError(`${path}.subscriptionId: must be a non-empty string`);
  }
  let resourceId: string | undefined;
  const resourceData = item.resourceData;
  if (resourceData !== undefined && resourceData !== null) {
    if (!isObject(resourceData)) throw new MalformedNotificationError(`${path}.resourceData: must be an object`);
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
 * Reads Graph's notification collection `{ value: [ … ] }`. Anything else is a MalformedNotificationError
 * naming the first problem (`value[2].subscriptionId: must be a non-empty string`).
 */
export function parseNotificationCollection(body: unknown): ReceivedNotification[] {
  if (!isObject(body)) {
    throw new MalformedNotificationError('Request body must be a JSON object { "value": [ … ] } (a Graph notification collection)');
  }
  const value = body.value;
  if (!Array.isArray(value)) throw new MalformedNotificationError('value: must be an array of notifications');
  return value.map((item, index) => parseItem(item, `value[${index}]`));
}

/** How many items a rejected body claimed to carry (for the `invalid` counter): its array's length, else 1. */
export function claimedItemCount(body: unknown): number {
  return isObject(body) && Array.isArray(body.value) && body.value.length > 0 ? body.value.length : 1;
}
