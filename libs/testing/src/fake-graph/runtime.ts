import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson } from '../fake-entra/http';
import type { GraphCaller } from './auth';
import type { DeltaTracker } from './delta';
import { GraphErrors } from './graph-errors';
import type { MailStore, Mailbox } from './mail-store';
import type { SubscriptionRegistry } from './subscriptions';
import type { FakeGraphRequest } from './types';

/** The content type Graph answers JSON with; a client must not insist on exactly "application/json". */
export const GRAPH_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

/** One authenticated API request on its way through the routes. */
export interface GraphCall {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  entry: FakeGraphRequest;
  caller: GraphCaller;
}

/** What the route handlers need from the fake (implemented by FakeGraph). */
export interface GraphRuntime {
  readonly baseUrl: string;
  readonly now: () => number;
  readonly store: MailStore;
  readonly registry: SubscriptionRegistry;
  readonly delta: DeltaTracker;
  readonly maxSubscriptionMinutes: number;
  readonly defaultPageSize: number;
  /** Injected throttling and the response delay, for a request touching `email` (if any). */
  admit(call: GraphCall, email?: string): Promise<void>;
  /** The same, plus the per-mailbox concurrency limit and the concurrency statistics. */
  admitMailbox(call: GraphCall, mailbox: Mailbox): Promise<void>;
  /** The validationToken handshake against one of our endpoints (throws Graph's 400). */
  validateEndpoint(url: string, subscriptionId?: string): Promise<void>;
}

export function sendGraphJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendJson(res, status, body, { 'Content-Type': GRAPH_JSON, ...headers });
}

export function sendNoContent(res: ServerResponse): void {
  res.writeHead(204, { 'Cache-Control': 'no-store, no-cache' });
  res.end();
}

/** A JSON object body; anything else is Graph's "Unable to read JSON request payload". */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readBody(req);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw GraphErrors.badJson();
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw GraphErrors.badJson();
  return parsed as Record<string, unknown>;
}

/** `name('key')`, `name(key)` or plain `name` (lower-cased name, key as written). */
export function parseSegment(raw: string): { name: string; key?: string } {
  const match = /^([^(]+)\((?:'([^']*)'|([^)']*))\)$/.exec(raw);
  if (!match) return { name: raw.toLowerCase() };
  return { name: (match[1] as string).toLowerCase(), key: match[2] ?? match[3] };
}

/** A query string with literal `$` option names (as Graph writes its links) and encoded values. */
export function queryString(params: Array<[string, string]>): string {
  return params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
}
