import { randomBytes, randomUUID } from 'node:crypto';

/**
 * Identifier shapes. Exchange REST ids are URL-safe base64 ending in '=' (so a client must encode them
 * in paths); regular message ids start "AAMk", immutable ones "AAkA", folder ids "AQMk". The two message
 * id kinds have different lengths too, so mixing them up is visible in a test failure.
 */
function b64(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

export function newRegularMessageId(): string {
  return `AAMkAD${b64(51)}AAA=`;
}

export function newImmutableMessageId(): string {
  return `AAkALg${b64(42)}AAA=`;
}

export function newFolderId(): string {
  return `AQMkAD${b64(30)}AAAA==`;
}

export function newChangeKey(): string {
  return `CQAAABYAAAA${b64(12)}`;
}

export function newConversationId(): string {
  return `AAQkAD${b64(30)}=`;
}

/** Opaque $skiptoken / $deltatoken values: long, URL-safe, meaningless to the client. */
export function newStateToken(): string {
  return b64(60);
}

/** Graph's validation token: free text with spaces and colons, so it only round-trips if decoded properly. */
export function newValidationToken(): string {
  return `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
}

/**
 * Encodes a query value the way Graph (.NET HttpUtility.UrlEncode) does: space → '+', lower-case
 * percent escapes, only letters, digits and - _ . ! * ( ) left as they are. A receiver that uses
 * decodeURIComponent (which leaves '+') or echoes the raw value fails the handshake, as with Graph.
 */
export function dotnetUrlEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/[~']/g, (c) => `%${c.charCodeAt(0).toString(16)}`)
    .replace(/%20/g, '+')
    .replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase());
}

/** Graph renders DateTimeOffset values with 7 fractional digits. */
export function graphDateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

/** Message dates render as whole seconds ("2026-11-21T10:00:00Z"), as Outlook does. */
export function messageDateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** ISO 8601 with an offset or Z; a value without a zone is taken as UTC (not local time, as Date.parse would). */
export function parseGraphDateTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/i.test(value.trim())) return undefined;
  const text = /(Z|[+-]\d{2}:\d{2})$/i.test(value.trim()) ? value.trim() : `${value.trim()}Z`;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Attachment ids extend their message's id (Exchange's are ~200 characters of base64). */
export function newAttachmentId(): string {
  return `AAMkAD${b64(51)}BEgAQA${b64(12)}=`;
}
