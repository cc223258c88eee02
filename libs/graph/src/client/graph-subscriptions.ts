import { GraphErrorCode } from '@app/failures';
import { GraphApiError, isGraphApiError } from './graph-api.error';
import type { GraphSubscription } from './graph-client.types';
import type { GraphHttp } from './graph-http';
import type { GraphUrls } from './graph-urls';

/** Notifications then carry immutable ids, the same ids delta returns with the same preference. */
export const IMMUTABLE_ID_PREFERENCE = 'IdType="ImmutableId"';

export interface CreateSubscriptionInput {
  folderId: string;
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  expirationDateTime: Date;
  clientState: string;
}

/** The resource string of a folder's new-message subscription, as Graph documents it. */
export function folderMessagesResource(user: string, folderId: string): string {
  return `users/${user}/mailFolders('${folderId}')/messages`;
}

function invalid(status: number, what: string, requestId: string | null): GraphApiError {
  return new GraphApiError({ kind: 'server', status, code: GraphErrorCode.InvalidResponse, message: `Graph answered ${what} without a usable subscription`, requestId });
}

/** Graph renders expirationDateTime with 7 fractional digits; Date.parse reads them (to the millisecond). */
export function subscriptionOf(json: unknown, status: number, requestId: string | null, what: string): GraphSubscription {
  const raw = (json ?? {}) as Record<string, unknown>;
  const expires = typeof raw.expirationDateTime === 'string' ? Date.parse(raw.expirationDateTime) : NaN;
  if (typeof raw.id !== 'string' || !raw.id || Number.isNaN(expires)) throw invalid(status, what, requestId);
  return {
    id: raw.id,
    resource: typeof raw.resource === 'string' ? raw.resource : '',
    expirationDateTime: new Date(expires),
    clientState: typeof raw.clientState === 'string' ? raw.clientState : null,
    notificationUrl: typeof raw.notificationUrl === 'string' ? raw.notificationUrl : '',
    lifecycleNotificationUrl: typeof raw.lifecycleNotificationUrl === 'string' ? raw.lifecycleNotificationUrl : null,
  };
}

/**
 * POST /subscriptions. Graph validates both endpoints (validationToken handshake) before answering, so
 * this can take seconds. Not retried after a network failure that may have reached Graph (a retry could
 * leave a second live subscription behind).
 */
export async function createSubscription(http: GraphHttp, urls: GraphUrls, input: CreateSubscriptionInput): Promise<GraphSubscription> {
  const body: Record<string, unknown> = {
    changeType: 'created',
    notificationUrl: input.notificationUrl,
    resource: folderMessagesResource(urls.user, input.folderId),
    expirationDateTime: input.expirationDateTime.toISOString(),
    clientState: input.clientState,
    latestSupportedTlsVersion: 'v1_2',
  };
  if (input.lifecycleNotificationUrl) body.lifecycleNotificationUrl = input.lifecycleNotificationUrl;
  const response = await http.request({ method: 'POST', url: urls.subscriptions(), body, prefer: [IMMUTABLE_ID_PREFERENCE] });
  return subscriptionOf(response.json, response.status, response.requestId, 'POST /subscriptions');
}

/** PATCH expirationDateTime (also clears a pending reauthorizationRequired). 404: Graph already removed it. */
export async function renewSubscription(http: GraphHttp, urls: GraphUrls, id: string, expirationDateTime: Date): Promise<GraphSubscription> {
  const response = await http.request({ method: 'PATCH', url: urls.subscription(id), body: { expirationDateTime: expirationDateTime.toISOString() } });
  return subscriptionOf(response.json, response.status, response.requestId, 'PATCH /subscriptions/{id}');
}

/** Answers a `reauthorizationRequired` lifecycle event (204). */
export async function reauthorizeSubscription(http: GraphHttp, urls: GraphUrls, id: string): Promise<void> {
  await http.request({ method: 'POST', url: `${urls.subscription(id)}/reauthorize`, idempotent: true });
}

/** DELETE; a subscription Graph no longer knows (expired, removed, deleted before) counts as deleted. */
export async function deleteSubscription(http: GraphHttp, urls: GraphUrls, id: string): Promise<void> {
  try {
    await http.request({ method: 'DELETE', url: urls.subscription(id) });
  } catch (error) {
    if (isGraphApiError(error, 'not_found')) return;
    throw error;
  }
}
