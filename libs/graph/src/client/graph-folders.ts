import { GraphErrorCode } from '@app/failures';
import { GraphApiError, isGraphApiError } from './graph-api.error';
import type { GraphFolder } from './graph-client.types';
import type { GraphHttp } from './graph-http';
import { odataString, query, type GraphUrls } from './graph-urls';

/**
 * Graph's well-known folder names (mailFolder resource, v1.0). They work in place of a folder id in
 * any URL, so resolving one costs a single GET and survives renames and localized display names
 * ("Posteingang" is still `inbox`).
 */
export const WELL_KNOWN_FOLDER_NAMES: ReadonlySet<string> = new Set([
  'archive',
  'clutter',
  'conflicts',
  'conversationhistory',
  'deleteditems',
  'drafts',
  'inbox',
  'junkemail',
  'localfailures',
  'msgfolderroot',
  'outbox',
  'recoverableitemsdeletions',
  'scheduled',
  'searchfolders',
  'sentitems',
  'serverfailures',
  'syncissues',
]);

/** Child folder lists are short; this only stops a misbehaving server from paging us forever. */
const MAX_FOLDER_PAGES = 50;

/** `INBOX` (IMAP's name, any case) and Graph's well-known names, case-insensitively; otherwise null. */
export function wellKnownFolderName(segment: string): string | null {
  const name = segment.trim().toLowerCase();
  return WELL_KNOWN_FOLDER_NAMES.has(name) ? name : null;
}

/** "Projects/2026" → ["Projects", "2026"]; empty segments (leading, trailing or doubled '/') are ignored. */
export function folderPathSegments(path: string): string[] {
  return path.split('/').filter((segment) => segment.trim() !== '');
}

interface RawFolder {
  id?: unknown;
  displayName?: unknown;
}

function folderOf(raw: unknown, wellKnownName: string | null): GraphFolder | null {
  const folder = raw as RawFolder | null;
  if (!folder || typeof folder.id !== 'string' || !folder.id) return null;
  return { id: folder.id, displayName: typeof folder.displayName === 'string' ? folder.displayName : '', wellKnownName };
}

function notFound(user: string, path: string, detail: string, cause?: GraphApiError): GraphApiError {
  return new GraphApiError({
    kind: 'not_found',
    status: cause?.status ?? 404,
    code: cause?.code ?? GraphErrorCode.FolderNotFound,
    message: `Folder "${path}" does not exist in mailbox ${user}: ${detail}`,
    requestId: cause?.requestId ?? null,
  });
}

async function wellKnown(http: GraphHttp, urls: GraphUrls, name: string, path: string): Promise<GraphFolder> {
  try {
    const response = await http.request({ method: 'GET', url: `${urls.folder(name)}?${query([['$select', 'id,displayName']])}` });
    const folder = folderOf(response.json, name);
    if (!folder) throw new GraphApiError({ kind: 'server', status: response.status, code: GraphErrorCode.InvalidResponse, message: `Graph returned no folder id for "${name}"` });
    return folder;
  } catch (error) {
    if (isGraphApiError(error, 'not_found')) throw notFound(urls.user, path, `the mailbox has no well-known folder "${name}"`, error);
    throw error;
  }
}

/**
 * The child of `parent` (null: the top level, under msgfolderroot) named `name`. Graph's `eq` on
 * displayName is case-insensitive, so an exact match is preferred when several come back; matching
 * again here also keeps the result right if a server ignores `$filter`.
 */
async function child(http: GraphHttp, urls: GraphUrls, parent: GraphFolder | null, name: string): Promise<GraphFolder | null> {
  const list = parent ? `${urls.folder(parent.id)}/childFolders` : `${urls.mailbox}/mailFolders`;
  let url: string | undefined = `${list}?${query([
    ['$filter', `displayName eq ${odataString(name)}`],
    ['$select', 'id,displayName'],
  ])}`;
  const candidates: GraphFolder[] = [];
  for (let page = 0; url && page < MAX_FOLDER_PAGES; page += 1) {
    const response = await http.request({ method: 'GET', url });
    const body = (response.json ?? {}) as { value?: unknown; '@odata.nextLink'?: unknown };
    for (const raw of Array.isArray(body.value) ? body.value : []) {
      const folder = folderOf(raw, null);
      if (folder && folder.displayName.toLowerCase() === name.toLowerCase()) candidates.push(folder);
    }
    const exact = candidates.find((folder) => folder.displayName === name);
    if (exact) return exact;
    url = typeof body['@odata.nextLink'] === 'string' ? body['@odata.nextLink'] : undefined;
  }
  return candidates[0] ?? null;
}

/**
 * 'INBOX' / well-known names → that folder; otherwise a display-name path resolved level by level. The
 * first segment may be well-known too ("Inbox/Clients" is a folder under the inbox, as in Outlook).
 */
export async function resolveFolderPath(http: GraphHttp, urls: GraphUrls, path: string): Promise<GraphFolder> {
  const segments = folderPathSegments(path);
  if (!segments.length) {
    throw new GraphApiError({ kind: 'invalid_request', status: 0, code: GraphErrorCode.InvalidFolderPath, message: `Folder path "${path}" is empty` });
  }
  const [first, ...rest] = segments as [string, ...string[]];
  const firstWellKnown = wellKnownFolderName(first);
  let current: GraphFolder | null = firstWellKnown ? await wellKnown(http, urls, firstWellKnown, path) : await child(http, urls, null, first);
  if (!current) throw notFound(urls.user, path, `no top-level folder named "${first}"`);
  for (const [index, segment] of rest.entries()) {
    const parentPath = segments.slice(0, index + 1).join('/');
    const next: GraphFolder | null = await child(http, urls, current, segment);
    if (!next) throw notFound(urls.user, path, `no folder named "${segment}" under "${parentPath}"`);
    current = next;
  }
  return current;
}
