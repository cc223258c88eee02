import type { GraphHttp } from './graph-http';
import type { GraphUrls } from './graph-urls';

/** Graph's documented limit of requests in one JSON batch. */
export const GRAPH_BATCH_MAX_REQUESTS = 20;

export interface GraphBatchRequest {
  /** Unique within the batch; the answer carries it back (answers come in any order). */
  id: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Relative to the version root: `/subscriptions/{id}`. */
  url: string;
  body?: unknown;
}

export interface GraphBatchResponse {
  id: string;
  status: number;
  /** Lower-case header names (Retry-After of a throttled item among them). */
  headers: { get(name: string): string | null };
  /** The item's JSON body (Graph inlines it), null when there is none. */
  body: unknown;
  /** The item's body as text, for the error classification of a failed item. */
  text: string;
}

/** The batch URL: `$batch` under the version root (`…/v1.0/$batch`). */
export function batchUrl(urls: GraphUrls): string {
  return `${urls.base}/$batch`;
}

/** A URL of ours (`https://graph.microsoft.com/v1.0/subscriptions/x`) relative to the version root, as `$batch` wants it. */
export function relativeToVersionRoot(urls: GraphUrls, absolute: string): string {
  return absolute.startsWith(urls.base) ? absolute.slice(urls.base.length) || '/' : absolute;
}

function headersOf(raw: unknown): { get(name: string): string | null } {
  const map = new Map<string, string>();
  if (raw && typeof raw === 'object') for (const [name, value] of Object.entries(raw)) if (typeof value === 'string') map.set(name.toLowerCase(), value);
  return { get: (name) => map.get(name.toLowerCase()) ?? null };
}

/**
 * One JSON `$batch` POST (at most 20 requests): the batch itself goes through `http.request` (token,
 * 401 refresh, retries of a throttled or failed batch, the mailbox's concurrency slot); what each item
 * answered is the caller's to judge. An item missing from the answer comes back as status 0.
 * `idempotent`: the items may be sent again after a network failure (PATCHes of an expiry are).
 */
export async function sendBatch(http: GraphHttp, urls: GraphUrls, requests: GraphBatchRequest[], idempotent: boolean): Promise<GraphBatchResponse[]> {
  if (requests.length === 0) return [];
  if (requests.length > GRAPH_BATCH_MAX_REQUESTS) throw new RangeError(`A Graph $batch holds at most ${GRAPH_BATCH_MAX_REQUESTS} requests (got ${requests.length})`);
  const body = {
    requests: requests.map((request) => {
      const item: Record<string, unknown> = { id: request.id, method: request.method, url: request.url };
      if (request.body !== undefined) {
        item.body = request.body;
        item.headers = { 'Content-Type': 'application/json' };
      }
      return item;
    }),
  };
  const response = await http.request({ method: 'POST', url: batchUrl(urls), body, idempotent });
  const answers = Array.isArray((response.json as { responses?: unknown } | null)?.responses) ? ((response.json as { responses: unknown[] }).responses as unknown[]) : [];
  const byId = new Map<string, Record<string, unknown>>();
  for (const answer of answers) {
    const record = (answer ?? {}) as Record<string, unknown>;
    if (record.id !== undefined) byId.set(String(record.id), record);
  }
  return requests.map((request) => {
    const answer = byId.get(request.id);
    if (!answer) return { id: request.id, status: 0, headers: headersOf(undefined), body: null, text: '' };
    const itemBody = answer.body ?? null;
    return {
      id: request.id,
      status: typeof answer.status === 'number' ? answer.status : 0,
      headers: headersOf(answer.headers),
      body: itemBody,
      text: itemBody === null ? '' : typeof itemBody === 'string' ? itemBody : JSON.stringify(itemBody),
    };
  });
}
