import { authorizeMailbox, requireMailPermission } from './auth';
import { parseDeltaQuery } from './delta';
import { GraphError, GraphErrors } from './graph-errors';
import { parseSelect, renderAttachment, renderMessage, type Folder, type Mailbox, type StoredMessage } from './mail-store';
import { parseMessageFilter } from './message-filter';
import { parsePrefer, queryValue } from './odata';
import { parseSegment, queryString, sendGraphJson, type GraphCall, type GraphRuntime } from './runtime';
import { sendRoute, type SendRuntime } from './send-routes';

const DELTA_SEGMENTS = new Set(['delta', 'delta()', 'microsoft.graph.delta', 'microsoft.graph.delta()']);
const LIST_MAX_TOP = 1000;

/**
 * /v1.0/me/… and /v1.0/users/{id|upn}/…: the user, its mail folders, messages (list, by id) and
 * message delta (GET); sending (sendMail, drafts, upload sessions: send-routes.ts).
 */
export async function handleMailbox(runtime: SendRuntime, call: GraphCall, segments: string[]): Promise<void> {
  const first = parseSegment(segments[0] as string);
  let mailbox: Mailbox;
  let userPath: string;
  let rest: string[];
  if (first.name === 'me' && first.key === undefined) {
    if (call.caller.kind === 'app') throw GraphErrors.meWithAppToken();
    const own = runtime.store.findMailbox(call.caller.oid) ?? (call.caller.username ? runtime.store.findMailbox(call.caller.username) : undefined);
    if (!own) throw GraphErrors.mailboxNotEnabled();
    [mailbox, userPath, rest] = [own, 'me', segments.slice(1)];
  } else {
    const key = first.key ?? segments[1];
    if (key === undefined) throw new GraphError(400, 'BadRequest', 'Listing users is not supported by the fake Graph.');
    const found = runtime.store.findMailbox(key);
    if (!found) throw GraphErrors.invalidUser(key);
    call.entry.email = found.email;
    authorizeMailbox(call.caller, found, key);
    [mailbox, userPath, rest] = [found, `users/${encodeURIComponent(key)}`, segments.slice(first.key !== undefined ? 1 : 2)];
  }
  call.entry.email = mailbox.email;
  const send = sendRoute(call.req.method ?? 'GET', rest);
  if (send) {
    // Permissions per route (Mail.Send, Mail.ReadWrite) are checked there.
    await runtime.admitMailbox(call, mailbox);
    return send(runtime, call, mailbox);
  }
  if (call.req.method !== 'GET') throw GraphErrors.methodNotAllowed();
  if (rest.length) requireMailPermission(call.caller);
  await runtime.admitMailbox(call, mailbox);

  if (!rest.length) return sendUser(runtime, call, mailbox);
  const head = parseSegment(rest[0] as string);
  if (head.name === 'messages' && head.key === undefined) {
    if (rest.length === 1) return listMessages(runtime, call, mailbox, undefined);
    if (rest.length === 2) return getMessage(runtime, call, mailbox, undefined, rest[1] as string);
    return messagePart(runtime, call, mailbox, rest[1] as string, rest.slice(2));
  }
  if (head.name !== 'mailfolders') throw GraphErrors.unknownSegment(rest[0] as string);
  const folderKey = head.key ?? rest[1];
  if (folderKey === undefined) return listFolders(runtime, call, mailbox);
  const folder = runtime.store.folderOrError(mailbox, folderKey);
  const after = rest.slice(head.key !== undefined ? 1 : 2);
  if (!after.length) return sendFolder(runtime, call, mailbox, folder);
  if (parseSegment(after[0] as string).name !== 'messages') throw GraphErrors.unknownSegment(after[0] as string);
  if (after.length === 1) return listMessages(runtime, call, mailbox, folder);
  if (after.length === 2 && DELTA_SEGMENTS.has((after[1] as string).toLowerCase())) return delta(runtime, call, mailbox, folder, userPath);
  if (after.length === 2) return getMessage(runtime, call, mailbox, folder, after[1] as string);
  throw GraphErrors.unknownSegment(after[2] as string);
}

function sendUser(runtime: GraphRuntime, call: GraphCall, mailbox: Mailbox): void {
  const [given, ...family] = mailbox.displayName.split(' ');
  sendGraphJson(call.res, 200, {
    '@odata.context': `${runtime.baseUrl}/$metadata#users/$entity`,
    businessPhones: [],
    displayName: mailbox.displayName,
    givenName: given ?? null,
    jobTitle: null,
    mail: mailbox.email,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: 'en-US',
    surname: family.join(' ') || null,
    userPrincipalName: mailbox.email,
    id: mailbox.id,
  });
}

function renderFolder(runtime: GraphRuntime, mailbox: Mailbox, folder: Folder): Record<string, unknown> {
  const messages = runtime.store.messagesIn(mailbox, folder);
  return {
    id: folder.id,
    displayName: folder.displayName,
    parentFolderId: folder.parentFolderId,
    childFolderCount: [...mailbox.folders.values()].filter((f) => f.parentFolderId === folder.id).length,
    unreadItemCount: messages.filter((m) => !m.isRead).length,
    totalItemCount: messages.length,
    sizeInBytes: messages.length * 4096,
    isHidden: false,
  };
}

function sendFolder(runtime: GraphRuntime, call: GraphCall, mailbox: Mailbox, folder: Folder): void {
  sendGraphJson(call.res, 200, {
    '@odata.context': `${runtime.baseUrl}/$metadata#users('${mailbox.id}')/mailFolders/$entity`,
    ...renderFolder(runtime, mailbox, folder),
  });
}

/** Top-level folders (children of the root), as GET …/mailFolders lists them. */
function listFolders(runtime: GraphRuntime, call: GraphCall, mailbox: Mailbox): void {
  const root = mailbox.wellKnown.get('msgfolderroot');
  const value = [...mailbox.folders.values()].filter((f) => f.parentFolderId === root).map((f) => renderFolder(runtime, mailbox, f));
  sendGraphJson(call.res, 200, { '@odata.context': `${runtime.baseUrl}/$metadata#users('${mailbox.id}')/mailFolders`, value });
}

/**
 * …/messages/{id}/$value (the MIME), …/attachments (fileAttachments with contentBytes; `$select` honoured),
 * …/attachments/{id} and …/attachments/{id}/$value (the raw bytes). Reads: isRead does not change.
 */
function messagePart(runtime: GraphRuntime, call: GraphCall, mailbox: Mailbox, id: string, after: string[]): void {
  const message = findMessage(runtime, mailbox, id);
  const [first, attachmentId, last] = after;
  if (after.length === 1 && first === '$value') {
    call.res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': String(message.mime.length) });
    call.res.end(message.mime);
    return;
  }
  if (first?.toLowerCase() !== 'attachments' || after.length > 3) throw GraphErrors.unknownSegment((first ?? '') as string);
  const select = queryValue(call.url, '$select')?.split(',').map((name) => name.trim()).filter(Boolean);
  if (after.length === 1) {
    sendGraphJson(call.res, 200, {
      '@odata.context': `${runtime.baseUrl}/$metadata#users('${mailbox.id}')/messages('${id}')/attachments`,
      value: message.attachments.map((a) => renderAttachment(a, select)),
    });
    return;
  }
  const attachment = message.attachments.find((a) => a.id === attachmentId);
  if (!attachment) throw GraphErrors.itemNotFound();
  if (after.length === 2) {
    sendGraphJson(call.res, 200, { '@odata.context': `${runtime.baseUrl}/$metadata#users('${mailbox.id}')/messages('${id}')/attachments/$entity`, ...renderAttachment(attachment, select) });
    return;
  }
  if (last !== '$value') throw GraphErrors.unknownSegment(last as string);
  call.res.writeHead(200, { 'Content-Type': attachment.contentType, 'Content-Length': String(attachment.content.length) });
  call.res.end(attachment.content);
}

function findMessage(runtime: GraphRuntime, mailbox: Mailbox, id: string): StoredMessage {
  const message = runtime.store.findMessage(mailbox, id);
  if (message) return message;
  throw /^AA(Mk|kA)/.test(id) ? GraphErrors.itemNotFound() : GraphErrors.idMalformed();
}

function getMessage(runtime: GraphRuntime, call: GraphCall, mailbox: Mailbox, folder: Folder | undefined, id: string): void {
  const message = findMessage(runtime, mailbox, id);
  if (folder && message.folderId !== folder.id) throw GraphErrors.itemNotFound();
  const prefer = parsePrefer(call.req);
  const select = parseSelect(queryValue(call.url, '$select'));
  sendGraphJson(
    call.res,
    200,
    { '@odata.context': `${runtime.baseUrl}/$metadata#users('${mailbox.id}')/messages/$entity`, ...renderMessage(message, { immutableIds: prefer.immutableIds, select }) },
    prefer.immutableIds ? { 'Preference-Applied': 'IdType="ImmutableId"' } : {},
  );
}

/**
 * GET …/messages: newest first by default, `$top` (default 10), `$skip`, `$select`, receivedDateTime
 * `$orderby`, `$filter` on receivedDateTime or internetMessageId (message-filter.ts).
 */
function listMessages(runtime: GraphRuntime, call: GraphCall, mailbox: Mailbox, folder: Folder | undefined): void {
  const query = parseDeltaQuery(call.url, { filter: false });
  const filter = parseMessageFilter(queryValue(call.url, '$filter'));
  const prefer = parsePrefer(call.req);
  const skip = Number(queryValue(call.url, '$skip') ?? '0');
  if (!Number.isInteger(skip) || skip < 0) throw new GraphError(400, 'BadRequest', 'Invalid $skip value.');
  const top = Math.min(query.top ?? prefer.maxPageSize ?? 10, LIST_MAX_TOP);
  const orderBy = queryValue(call.url, '$orderby');
  const ascending = orderBy !== undefined && !query.orderDesc;
  const all = (folder ? runtime.store.messagesIn(mailbox, folder) : [...mailbox.messages.values()].filter((m) => !m.deleted))
    .filter((m) => !filter || filter(m))
    .sort((a, b) => (ascending ? a.receivedAt - b.receivedAt : b.receivedAt - a.receivedAt));
  const page = all.slice(skip, skip + top);
  const body: Record<string, unknown> = { '@odata.context': `${runtime.baseUrl}/$metadata#users('${mailbox.id}')/messages` };
  body.value = page.map((m) => renderMessage(m, { immutableIds: prefer.immutableIds, select: query.select }));
  if (skip + top < all.length) {
    const params: Array<[string, string]> = [];
    for (const [k, v] of call.url.searchParams) if (k.toLowerCase() !== '$skip') params.push([k, v]);
    params.push(['$skip', String(skip + top)]);
    body['@odata.nextLink'] = `${runtime.baseUrl}${call.url.pathname.replace(/^\/(v1\.0|beta)/, '')}?${queryString(params)}`;
  }
  sendGraphJson(call.res, 200, body, prefer.immutableIds ? { 'Preference-Applied': 'IdType="ImmutableId"' } : {});
}

/**
 * GET …/mailFolders/{id}/messages/delta. Follow-up requests use the returned link as it is (the
 * options of the initial request live in the token); the page size comes from this request's
 * `Prefer: odata.maxpagesize`, else the initial `$top`, else the default (10).
 */
function delta(runtime: GraphRuntime, call: GraphCall, mailbox: Mailbox, folder: Folder, userPath: string): void {
  const prefer = parsePrefer(call.req);
  const skipToken = queryValue(call.url, '$skiptoken');
  const deltaToken = queryValue(call.url, '$deltatoken');
  const initial = skipToken === undefined && deltaToken === undefined;
  const page = runtime.delta.page({
    mailbox,
    folder,
    skipToken,
    deltaToken,
    query: initial ? parseDeltaQuery(call.url) : undefined,
    preferredPageSize: prefer.maxPageSize,
    immutableIds: prefer.immutableIds,
    defaultPageSize: runtime.defaultPageSize,
  });
  const link = `${runtime.baseUrl}/${userPath}/mailFolders('${folder.id}')/messages/delta`;
  const body: Record<string, unknown> = { '@odata.context': `${runtime.baseUrl}/$metadata#Collection(message)` };
  if (page.nextSkipToken !== undefined) body['@odata.nextLink'] = `${link}?$skiptoken=${page.nextSkipToken}`;
  else body['@odata.deltaLink'] = `${link}?$deltatoken=${page.deltaToken as string}`;
  body.value = page.value;
  sendGraphJson(call.res, 200, body, prefer.applied.length ? { 'Preference-Applied': prefer.applied.join(', ') } : {});
}
