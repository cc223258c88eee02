import { GraphError, GraphErrors } from './graph-errors';
import { parseGraphDateTime, newStateToken } from './graph-ids';
import { messageId, parseSelect, renderMessage, type Folder, type Mailbox, type StoredMessage } from './mail-store';
import { queryValue } from './odata';
import type { FakeGraphChangeType } from './types';

/** The query options of an initial delta request; Graph encodes them into the state tokens. */
export interface DeltaQuery {
  select?: string[];
  filter?: { op: 'ge' | 'gt'; at: number };
  changeType?: FakeGraphChangeType;
  orderDesc: boolean;
  /** `$top` of the initial request (a page size). */
  top?: number;
}

/**
 * Parses $select, $filter (receivedDateTime ge|gt only, as Graph), $orderby, $top, changeType. `filter:
 * false`: $filter is left to the caller (a message list takes more than delta: message-filter.ts).
 */
export function parseDeltaQuery(url: URL, options: { filter?: boolean } = {}): DeltaQuery {
  const query: DeltaQuery = { select: parseSelect(queryValue(url, '$select')), orderDesc: false };
  const filter = options.filter === false ? undefined : queryValue(url, '$filter');
  if (filter !== undefined) {
    const match = /^\s*receivedDateTime\s+(ge|gt)\s+'?([^']+?)'?\s*$/i.exec(filter);
    const at = match ? parseGraphDateTime(match[2]) : undefined;
    if (!match || at === undefined) throw GraphErrors.invalidFilter();
    query.filter = { op: (match[1] as string).toLowerCase() as 'ge' | 'gt', at };
  }
  const orderBy = queryValue(url, '$orderby');
  if (orderBy !== undefined) {
    const match = /^\s*receivedDateTime(\s+(asc|desc))?\s*$/i.exec(orderBy);
    if (!match) throw new GraphError(400, 'BadRequest', "The only supported $orderby expression for delta is 'receivedDateTime desc'.");
    query.orderDesc = (match[2] ?? '').toLowerCase() === 'desc';
  }
  const top = queryValue(url, '$top');
  if (top !== undefined) {
    if (!/^\d+$/.test(top) || Number(top) < 1) throw new GraphError(400, 'BadRequest', `Invalid $top value '${top}'.`);
    query.top = Number(top);
  }
  const changeType = queryValue(url, 'changeType');
  if (changeType !== undefined) {
    const value = changeType.toLowerCase();
    if (value !== 'created' && value !== 'updated' && value !== 'deleted') {
      throw GraphErrors.invalidRequest(`Invalid changeType '${changeType}'. Supported values are created, updated and deleted.`);
    }
    query.changeType = value;
  }
  return query;
}

interface RoundItem {
  key: string;
  removed: boolean;
  /** The regular id as of this round (a later move must not change what this round reports). */
  regularId: string;
}

interface Round {
  items: RoundItem[];
  /** The mailbox sequence the round covers up to; the round's delta token starts after it. */
  endSeq: number;
}

interface SyncStateBase {
  mailboxId: string;
  folderId: string;
  epoch: number;
  generation: number;
  query: DeltaQuery;
}
type SyncState = (SyncStateBase & { kind: 'delta'; seq: number }) | (SyncStateBase & { kind: 'skip'; round: Round; offset: number });

export interface DeltaRequest {
  mailbox: Mailbox;
  folder: Folder;
  /** `$skiptoken` / `$deltatoken` of a follow-up request (the link used exactly as given). */
  skipToken?: string;
  deltaToken?: string;
  /** Options of an initial request (ignored on follow-ups: they live in the token). */
  query?: DeltaQuery;
  /** `Prefer: odata.maxpagesize` of this request. */
  preferredPageSize?: number;
  immutableIds: boolean;
  defaultPageSize: number;
}

export interface DeltaPage {
  value: Array<Record<string, unknown>>;
  nextSkipToken?: string;
  deltaToken?: string;
}

/**
 * Message delta per folder. A round is frozen when it starts (the items and the sequence it covers), so
 * changes made while a client pages through it show up in the next round, each message once with its
 * latest state. Sync states live server-side keyed by opaque tokens, as Exchange keeps them.
 */
export class DeltaTracker {
  private readonly states = new Map<string, SyncState>();
  private generation = 0;

  constructor(private readonly messages: (mailbox: Mailbox, folder: Folder) => StoredMessage[]) {}

  page(request: DeltaRequest): DeltaPage {
    const { mailbox, folder } = request;
    let round: Round;
    let offset = 0;
    let query: DeltaQuery;
    const token = request.skipToken ?? request.deltaToken;
    if (token !== undefined) {
      const state = this.states.get(token);
      const kind = request.skipToken !== undefined ? 'skip' : 'delta';
      if (!state || state.kind !== kind || state.mailboxId !== mailbox.id || state.folderId !== folder.id) throw GraphErrors.syncStateInvalid();
      if (state.epoch !== mailbox.epoch) throw GraphErrors.syncStateNotFound(state.generation, this.generation);
      query = state.query;
      if (state.kind === 'skip') {
        round = state.round;
        offset = state.offset;
      } else {
        round = this.incrementalRound(mailbox, folder, state.seq, query);
      }
    } else {
      query = request.query ?? { orderDesc: false };
      round = this.initialRound(mailbox, folder, query);
    }

    const pageSize = request.preferredPageSize ?? query.top ?? request.defaultPageSize;
    const slice = round.items.slice(offset, offset + pageSize);
    const value = slice.map((item) => this.render(mailbox, item, query, request.immutableIds));
    const end = offset + slice.length;
    const base = { mailboxId: mailbox.id, folderId: folder.id, epoch: mailbox.epoch, query };
    if (end < round.items.length) {
      return { value, nextSkipToken: this.issue({ ...base, kind: 'skip', round, offset: end, generation: 0 }) };
    }
    return { value, deltaToken: this.issue({ ...base, kind: 'delta', seq: round.endSeq, generation: 0 }) };
  }

  private issue(state: SyncState): string {
    this.generation += 1;
    const token = newStateToken();
    this.states.set(token, { ...state, generation: this.generation });
    return token;
  }

  private initialRound(mailbox: Mailbox, folder: Folder, query: DeltaQuery): Round {
    const wanted = query.changeType === undefined || query.changeType === 'created';
    const present = wanted ? this.messages(mailbox, folder).filter((m) => passesFilter(m, query)) : [];
    present.sort((a, b) => a.receivedAt - b.receivedAt || a.createdAt - b.createdAt);
    if (query.orderDesc) present.reverse();
    return { items: present.map((m) => ({ key: m.key, removed: false, regularId: m.regularId })), endSeq: mailbox.seq };
  }

  private incrementalRound(mailbox: Mailbox, folder: Folder, fromSeq: number, query: DeltaQuery): Round {
    // Collapse the log after fromSeq to one entry per message, ordered by its latest change.
    const byKey = new Map<string, { firstKind: string; firstRemovedId?: string; lastSeq: number }>();
    for (const entry of folder.log) {
      if (entry.seq <= fromSeq) continue;
      const seen = byKey.get(entry.key);
      if (!seen) byKey.set(entry.key, { firstKind: entry.kind, firstRemovedId: entry.kind === 'removed' ? entry.regularId : undefined, lastSeq: entry.seq });
      else {
        seen.lastSeq = entry.seq;
        if (entry.kind === 'removed' && seen.firstRemovedId === undefined) seen.firstRemovedId = entry.regularId;
      }
    }
    const items: RoundItem[] = [];
    for (const [key, seen] of [...byKey].sort((a, b) => a[1].lastSeq - b[1].lastSeq)) {
      const message = mailbox.messages.get(key) as StoredMessage;
      const presentNow = !message.deleted && message.folderId === folder.id;
      const existedBefore = seen.firstKind !== 'added';
      if (!passesFilter(message, query)) continue;
      if (presentNow) {
        const change: FakeGraphChangeType = existedBefore ? 'updated' : 'created';
        if (query.changeType === undefined || query.changeType === change) items.push({ key, removed: false, regularId: message.regularId });
      } else if (existedBefore && (query.changeType === undefined || query.changeType === 'deleted')) {
        // The id the client knows is the one it had when it left this folder.
        items.push({ key, removed: true, regularId: seen.firstRemovedId ?? message.regularId });
      }
    }
    return { items, endSeq: mailbox.seq };
  }

  private render(mailbox: Mailbox, item: RoundItem, query: DeltaQuery, immutableIds: boolean): Record<string, unknown> {
    const message = mailbox.messages.get(item.key) as StoredMessage;
    const id = immutableIds ? message.immutableId : item.regularId;
    if (item.removed) return { '@odata.type': '#microsoft.graph.message', id, '@removed': { reason: 'deleted' } };
    const rendered = renderMessage(message, { immutableIds, select: query.select, withType: true });
    rendered.id = immutableIds ? messageId(message, true) : item.regularId;
    return rendered;
  }
}

function passesFilter(message: StoredMessage, query: DeltaQuery): boolean {
  if (!query.filter) return true;
  return query.filter.op === 'ge' ? message.receivedAt >= query.filter.at : message.receivedAt > query.filter.at;
}
