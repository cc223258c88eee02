import { GraphErrors } from './graph-errors';
import { parseGraphDateTime } from './graph-ids';
import { MESSAGE_PROPERTIES, type StoredMessage } from './mail-store';

export type MessageFilter = (message: StoredMessage) => boolean;

const KNOWN = new Set(['id', ...MESSAGE_PROPERTIES].map((p) => p.toLowerCase()));

/**
 * `$filter` of GET …/messages (a folder's or the mailbox's), as far as the fake runs one:
 * - `receivedDateTime ge|gt <time>` (as delta takes it);
 * - `internetMessageId eq '<id>'`: finding a message by its Message-ID, as Graph documents it; the value an
 *   OData string literal (quotes doubled), compared exactly.
 * A property the message resource does not have: 400 RequestBroker--ParseUri, as Graph answers; any other
 * expression (functions, and/or, other properties): 400 ErrorInvalidUrlQueryFilter, Graph's answer to a
 * filter it cannot run, so a client never mistakes an ignored filter for an empty result.
 */
export function parseMessageFilter(text: string | undefined): MessageFilter | undefined {
  if (text === undefined) return undefined;
  const received = /^\s*receivedDateTime\s+(ge|gt)\s+'?([^']+?)'?\s*$/i.exec(text);
  if (received) {
    const at = parseGraphDateTime(received[2]);
    if (at === undefined) throw GraphErrors.invalidFilter();
    return (received[1] as string).toLowerCase() === 'ge' ? (m) => m.receivedAt >= at : (m) => m.receivedAt > at;
  }
  const byMessageId = /^\s*internetMessageId\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(text);
  if (byMessageId) {
    const value = (byMessageId[1] as string).replace(/''/g, "'");
    return (m) => m.internetMessageId === value;
  }
  const property = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s+(eq|ne|gt|ge|lt|le)\s/i.exec(text)?.[1];
  if (property && !KNOWN.has(property.toLowerCase())) throw GraphErrors.unknownProperty(property);
  throw GraphErrors.invalidFilter();
}
