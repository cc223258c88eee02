import { GraphErrorCode } from '@app/failures';
import { GraphApiError } from './graph-api.error';
import type { DeltaRound, DeltaStart, GraphMessage } from './graph-client.types';
import type { GraphHttp } from './graph-http';
import { graphMessageOf, MESSAGE_SELECT } from './graph-message.mapper';
import { IMMUTABLE_ID_PREFERENCE } from './graph-subscriptions';
import { query, type GraphUrls } from './graph-urls';

/**
 * The first request of a folder's message delta. `changeType=created` makes Graph report new messages
 * only (read flags, flags, moves within the folder are not "new mail"); `$filter=receivedDateTime ge`
 * bounds the initial sync, so a baseline taken "now" replays nothing. Both live on in the tokens Graph
 * hands back, so later links need no options — which is why the bound is rounded down to the second:
 * Exchange stores receivedDateTime to the second, so `ge 10:00:00.400Z` would hide, in this round and
 * every later one, a message received at 10:00:00.700 (stored as 10:00:00).
 */
export function initialDeltaUrl(urls: GraphUrls, folderId: string, receivedSince: Date | null): string {
  const params: Array<[string, string]> = [
    ['changeType', 'created'],
    ['$select', MESSAGE_SELECT.join(',')],
  ];
  if (receivedSince) params.push(['$filter', `receivedDateTime ge ${new Date(Math.floor(receivedSince.getTime() / 1000) * 1000).toISOString()}`]);
  return `${urls.folder(folderId)}/messages/delta?${query(params)}`;
}

/**
 * A link must point at the Graph we were configured with: otherwise the bearer token would go to
 * another host (a stored link from before a change of graphBaseUrl, or a tampered row).
 */
function checkedLink(urls: GraphUrls, link: string, stored: boolean): string {
  // Absolute links are used exactly as given (their tokens are opaque); a relative one is resolved against the base.
  const absolute = /^[a-z][a-z0-9+.-]*:/i.test(link);
  let resolved = link;
  let sameOrigin = false;
  try {
    if (!absolute) resolved = new URL(link, `${urls.base}/`).toString();
    sameOrigin = new URL(resolved).origin === new URL(urls.base).origin;
  } catch {
    sameOrigin = false;
  }
  if (sameOrigin) return resolved;
  if (stored) {
    return fail('sync_reset', GraphErrorCode.ForeignDeltaLink, 'The stored deltaLink does not point at the configured Graph endpoint; start a new delta round');
  }
  return fail('server', GraphErrorCode.InvalidResponse, 'Graph returned a delta link to another host');
}

function fail(kind: 'sync_reset' | 'server', code: GraphErrorCode, message: string): never {
  throw new GraphApiError({ kind, status: 0, code, message });
}

export interface DeltaOptions {
  pageSize: number;
}

/**
 * One delta round: pages in order, each handed to onPage (awaited before the next page is fetched, so
 * the caller's back-pressure holds), until Graph returns the deltaLink. A sync_reset can come on any
 * page, also after earlier pages were handed out: the caller's publishing must be idempotent anyway.
 */
export async function deltaRound(
  http: GraphHttp,
  urls: GraphUrls,
  folderId: string,
  from: DeltaStart,
  onPage: (messages: GraphMessage[]) => Promise<void>,
  options: DeltaOptions,
): Promise<DeltaRound> {
  const prefer = [`odata.maxpagesize=${options.pageSize}`, IMMUTABLE_ID_PREFERENCE];
  let url = 'deltaLink' in from ? checkedLink(urls, from.deltaLink, true) : initialDeltaUrl(urls, folderId, from.receivedSince);
  let pages = 0;
  let messages = 0;
  for (;;) {
    const response = await http.request({ method: 'GET', url, prefer, delta: true });
    pages += 1;
    const body = (response.json ?? {}) as { value?: unknown; '@odata.nextLink'?: unknown; '@odata.deltaLink'?: unknown };
    const page: GraphMessage[] = [];
    for (const item of Array.isArray(body.value) ? body.value : []) {
      // Removals (deletes, moves out) are not new mail; with changeType=created Graph should not send them anyway.
      if (item && typeof item === 'object' && '@removed' in item) continue;
      const message = graphMessageOf(item);
      if (message) page.push(message);
    }
    await onPage(page);
    messages += page.length;
    const next = body['@odata.nextLink'];
    if (typeof next === 'string' && next) {
      url = checkedLink(urls, next, false);
      continue;
    }
    const deltaLink = body['@odata.deltaLink'];
    if (typeof deltaLink === 'string' && deltaLink) return { deltaLink, pages, messages };
    throw new GraphApiError({
      kind: 'server',
      status: response.status,
      code: GraphErrorCode.InvalidDeltaResponse,
      message: 'Graph answered a delta page with neither @odata.nextLink nor @odata.deltaLink',
      requestId: response.requestId,
    });
  }
}
