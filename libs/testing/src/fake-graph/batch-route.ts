import { header } from './odata';
import { GraphErrors } from './graph-errors';
import { readJsonObject, sendGraphJson, type GraphCall } from './runtime';

/** Graph's documented limit of requests in one JSON batch. */
export const MAX_BATCH_REQUESTS = 20;

interface BatchItem {
  id: string;
  method: string;
  url: string;
  body?: unknown;
  headers: Record<string, string>;
}

/**
 * POST /v1.0/$batch, Graph's JSON batching: `{ requests: [{ id, method, url, body?, headers? }] }`, URLs
 * relative to the version root; answers 200 `{ responses: [{ id, status, headers, body }] }`. Each item is
 * sent to this same fake over loopback with the batch's bearer token, so it goes through the same routes,
 * throttling (a 429 item carries its own Retry-After) and request log as a request of its own. Items run
 * in parallel (no `dependsOn`), as Graph runs them.
 */
export async function handleBatch(call: GraphCall, versionRoot: string): Promise<void> {
  if ((call.req.method ?? 'GET') !== 'POST') throw GraphErrors.methodNotAllowed();
  const body = await readJsonObject(call.req);
  const items = parseItems(body.requests);
  const authorization = header(call.req, 'authorization') ?? '';
  const responses = await Promise.all(items.map((item) => runItem(item, versionRoot, authorization)));
  sendGraphJson(call.res, 200, { responses });
}

function parseItems(raw: unknown): BatchItem[] {
  if (!Array.isArray(raw) || raw.length === 0) throw GraphErrors.invalidRequest('Invalid batch payload format.');
  if (raw.length > MAX_BATCH_REQUESTS) throw GraphErrors.invalidRequest(`The number of batch requests in the payload cannot exceed ${MAX_BATCH_REQUESTS}.`);
  const ids = new Set<string>();
  return raw.map((entry: unknown) => {
    const item = (entry ?? {}) as Record<string, unknown>;
    const id = typeof item.id === 'string' ? item.id : typeof item.id === 'number' ? String(item.id) : '';
    if (!id) throw GraphErrors.invalidRequest('Batch request id is missing.');
    if (ids.has(id)) throw GraphErrors.invalidRequest(`Batch request ids must be unique: ${id}.`);
    ids.add(id);
    if (typeof item.method !== 'string' || !/^(GET|POST|PATCH|PUT|DELETE)$/i.test(item.method)) throw GraphErrors.invalidRequest(`Batch request ${id} has an invalid method.`);
    if (typeof item.url !== 'string' || item.url === '' || /^[a-z]+:\/\//i.test(item.url)) throw GraphErrors.invalidRequest(`Batch request ${id} needs a url relative to the version root.`);
    const headers: Record<string, string> = {};
    if (item.headers && typeof item.headers === 'object') for (const [k, v] of Object.entries(item.headers)) if (typeof v === 'string') headers[k] = v;
    if (item.body !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) {
      throw GraphErrors.invalidRequest(`Batch request ${id} has a body but no Content-Type header.`);
    }
    return { id, method: item.method.toUpperCase(), url: item.url, body: item.body, headers };
  });
}

async function runItem(item: BatchItem, versionRoot: string, authorization: string): Promise<Record<string, unknown>> {
  const url = `${versionRoot}/${item.url.replace(/^\//, '')}`;
  const response = await fetch(url, {
    method: item.method,
    headers: { ...item.headers, Authorization: authorization },
    body: item.body === undefined ? undefined : JSON.stringify(item.body),
  });
  const text = await response.text();
  const headers: Record<string, string> = {};
  for (const name of ['retry-after', 'content-type', 'location']) {
    const value = response.headers.get(name);
    if (value !== null) headers[name === 'retry-after' ? 'Retry-After' : name === 'content-type' ? 'Content-Type' : 'Location'] = value;
  }
  let parsed: unknown = undefined;
  if (text.trim() !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  const answer: Record<string, unknown> = { id: item.id, status: response.status, headers };
  if (parsed !== undefined) answer.body = parsed;
  return answer;
}
