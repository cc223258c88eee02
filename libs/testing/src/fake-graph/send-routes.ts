import type { IncomingMessage } from 'node:http';
import { simpleParser, type AddressObject } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { GraphCaller } from './auth';
import { GraphError, GraphErrors } from './graph-errors';
import { graphDateTime } from './graph-ids';
import type { Mailbox } from './mail-store';
import { header } from './odata';
import { sendGraphJson, type GraphCall, type GraphRuntime } from './runtime';
import type { Draft, SendStore, UploadSession } from './send-store';
import type { FakeGraphMessageInput, FakeGraphSentMail } from './types';

/** Graph's request body limit ("4 MB": 4 MiB) and the upload-session bounds of "Attach large files". */
export const SEND_LIMITS = { maxRequestBytes: 4 * 1024 * 1024, uploadSessionMinBytes: 3 * 1024 * 1024, uploadSessionMaxBytes: 150 * 1024 * 1024, chunkMultiple: 320 * 1024 };
const UPLOAD_SESSION_MINUTES = 15;

const DELEGATED_SEND = new Set(['mail.send', '.default']);
const DELEGATED_WRITE = new Set(['mail.readwrite', '.default']);
const APP_SEND = new Set(['mail.send']);
const APP_WRITE = new Set(['mail.readwrite']);

/** What the send routes need besides the runtime: the send store, and delivery with notifications. */
export interface SendRuntime extends GraphRuntime {
  readonly sends: SendStore;
  /** Stores a message in a folder of a mailbox and notifies its subscriptions (FakeGraph.deliver). */
  deliverTo(email: string, message: Partial<FakeGraphMessageInput>, folder: string): { id: string };
  /** The origin the upload URLs are served on. */
  readonly origin: string;
}

export const SendErrors = {
  invalidBase64: () => new GraphError(400, 'ErrorMimeContentInvalidBase64String', 'Invalid base64 string for MIME content.'),
  invalidMime: () => new GraphError(400, 'ErrorMimeContentInvalid', 'The MIME content is invalid.'),
  contentType: (type: string) => new GraphError(400, 'ErrorInvalidRequest', `The content type '${type}' is not supported for this request; use application/json or text/plain (base64 MIME).`),
  emptyMessage: () => new GraphError(400, 'ErrorInvalidParameter', "The value of the parameter 'Message' is empty."),
  noRecipients: () => new GraphError(400, 'ErrorInvalidRecipients', "At least one recipient isn't valid., A message can't be sent because it contains no recipients."),
  tooLarge: (bytes: number) => new GraphError(413, 'ErrorRequestEntityTooLarge', `The request of ${bytes} bytes exceeds the maximum of ${SEND_LIMITS.maxRequestBytes} bytes.`),
  attachmentTooSmall: () => new GraphError(400, 'ErrorAttachmentSizeShouldNotBeLessThanMinimumSize', 'Attachment size must be greater than the minimum size.'),
  invalidAttachmentItem: (why: string) => new GraphError(400, 'ErrorInvalidRequest', `Invalid AttachmentItem: ${why}`),
  invalidRange: (why: string) => new GraphError(416, 'ErrorInvalidRange', `The Content-Range is not what the upload session expects: ${why}`),
  uploadNotFound: () => new GraphError(404, 'ErrorItemNotFound', 'The upload session was not found or has expired.'),
  uploadWithAuthorization: () => new GraphError(401, 'InvalidAuthenticationToken', 'The upload URL is pre-authenticated; do not send an Authorization header.'),
};

function permitted(caller: GraphCaller, delegated: Set<string>, app: Set<string>): void {
  const allowed = caller.kind === 'app' ? app : delegated;
  if (!caller.permissions.some((p) => allowed.has(p.toLowerCase()))) throw GraphErrors.accessDenied();
}

async function readRaw(req: IncomingMessage, limit = SEND_LIMITS.maxRequestBytes): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req) {
    bytes += (chunk as Buffer).length;
    chunks.push(chunk as Buffer);
  }
  if (bytes > limit) throw SendErrors.tooLarge(bytes);
  return Buffer.concat(chunks);
}

function mediaType(req: IncomingMessage): string {
  return (header(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

function json(body: Buffer): Record<string, unknown> {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // Graph's answer below
  }
  throw GraphErrors.badJson();
}

/** Base64 as Graph takes it: the alphabet, optional line breaks, correct padding. */
function decodeBase64Mime(body: Buffer): Buffer {
  const text = body.toString('latin1').replace(/[\r\n]/g, '');
  if (text.length === 0 || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw SendErrors.invalidBase64();
  const mime = Buffer.from(text, 'base64');
  if (!/^[!-9;-~]+:/.test(mime.subarray(0, 200).toString('latin1'))) throw SendErrors.invalidMime();
  return mime;
}

type Recipient = { emailAddress?: { name?: string; address?: string } };
function addressesOf(value: unknown): Array<{ name?: string; address: string }> {
  if (!Array.isArray(value)) return [];
  return (value as Recipient[]).filter((r) => typeof r?.emailAddress?.address === 'string').map((r) => ({ name: r.emailAddress!.name, address: r.emailAddress!.address! }));
}
function mimeAddresses(value: AddressObject | AddressObject[] | undefined): string[] {
  if (!value) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((h) => h.value).flatMap((e) => (e.group ? e.group : [e])).map((e) => e.address ?? '').filter(Boolean);
}

/**
 * POST …/sendMail, …/messages (a draft), …/messages/{id}/attachments, …/attachments/createUploadSession,
 * …/messages/{id}/send and DELETE …/messages/{id} of a mailbox; null when the route is none of these.
 */
export function sendRoute(method: string, rest: string[]): ((runtime: SendRuntime, call: GraphCall, mailbox: Mailbox) => Promise<void>) | null {
  const names = rest.map((segment) => segment.toLowerCase());
  if (method === 'POST' && names.length === 1 && names[0] === 'sendmail') return sendMail;
  if (names[0] !== 'messages') return null;
  if (method === 'POST' && names.length === 1) return createDraft;
  const id = rest[1] as string;
  if (method === 'DELETE' && names.length === 2) return (runtime, call, mailbox) => deleteDraft(runtime, call, mailbox, id);
  if (method === 'POST' && names.length === 3 && names[2] === 'send') return (runtime, call, mailbox) => sendDraft(runtime, call, mailbox, id);
  if (method === 'POST' && names.length === 3 && names[2] === 'attachments') return (runtime, call, mailbox) => addAttachment(runtime, call, mailbox, id);
  if (method === 'POST' && names.length === 4 && names[2] === 'attachments' && (names[3] === 'createuploadsession' || names[3] === 'microsoft.graph.createuploadsession')) {
    return (runtime, call, mailbox) => createUploadSession(runtime, call, mailbox, id);
  }
  return null;
}

/** text/plain: base64 MIME, sent as it is; application/json: `{ message, saveToSentItems }`. 202, empty body. */
async function sendMail(runtime: SendRuntime, call: GraphCall, mailbox: Mailbox): Promise<void> {
  permitted(call.caller, DELEGATED_SEND, APP_SEND);
  const type = mediaType(call.req);
  const body = await readRaw(call.req);
  if (type === 'text/plain') {
    await deliverMime(runtime, mailbox, decodeBase64Mime(body), 'sendMail-mime');
  } else if (type === 'application/json') {
    const request = json(body);
    const message = request.message;
    if (!message || typeof message !== 'object') throw SendErrors.emptyMessage();
    await deliverJson(runtime, mailbox, message as Record<string, unknown>, [], 'sendMail-json', request.saveToSentItems !== false);
  } else throw SendErrors.contentType(type || '(none)');
  accepted(call);
}

function accepted(call: GraphCall): void {
  call.res.writeHead(202, { 'Content-Length': '0' });
  call.res.end();
}

async function createDraft(runtime: SendRuntime, call: GraphCall, mailbox: Mailbox): Promise<void> {
  permitted(call.caller, DELEGATED_WRITE, APP_WRITE);
  const type = mediaType(call.req);
  const body = await readRaw(call.req);
  let draft: Draft;
  if (type === 'text/plain') draft = runtime.sends.newDraft(mailbox.id, null, decodeBase64Mime(body));
  else if (type === 'application/json') {
    const message = json(body);
    if (Array.isArray(message.attachments) && message.attachments.length) throw new GraphError(400, 'ErrorInvalidRequest', 'The fake Graph takes attachments through …/attachments only.');
    draft = runtime.sends.newDraft(mailbox.id, message, null);
  } else throw SendErrors.contentType(type || '(none)');
  const message = draft.message ?? {};
  sendGraphJson(call.res, 201, {
    '@odata.context': `${runtime.baseUrl}/$metadata#users('${mailbox.id}')/messages/$entity`,
    id: draft.id,
    isDraft: true,
    subject: message.subject ?? null,
    internetMessageId: message.internetMessageId ?? null,
    toRecipients: message.toRecipients ?? [],
    hasAttachments: false,
  });
}

function draftOf(runtime: SendRuntime, mailbox: Mailbox, id: string): Draft {
  const draft = runtime.sends.drafts.get(id);
  if (!draft || draft.mailboxId !== mailbox.id) throw GraphErrors.itemNotFound();
  return draft;
}

function deleteDraft(runtime: SendRuntime, call: GraphCall, mailbox: Mailbox, id: string): Promise<void> {
  permitted(call.caller, DELEGATED_WRITE, APP_WRITE);
  draftOf(runtime, mailbox, id);
  runtime.sends.drafts.delete(id);
  call.res.writeHead(204);
  call.res.end();
  return Promise.resolve();
}

/** A fileAttachment with contentBytes (below the upload-session size). */
async function addAttachment(runtime: SendRuntime, call: GraphCall, mailbox: Mailbox, id: string): Promise<void> {
  permitted(call.caller, DELEGATED_WRITE, APP_WRITE);
  const draft = draftOf(runtime, mailbox, id);
  const body = json(await readRaw(call.req));
  if (body['@odata.type'] !== '#microsoft.graph.fileAttachment' || typeof body.name !== 'string' || typeof body.contentBytes !== 'string') {
    throw new GraphError(400, 'ErrorInvalidRequest', 'A fileAttachment needs @odata.type, name and contentBytes.');
  }
  const attachment = {
    id: runtime.sends.newAttachmentId(),
    name: body.name,
    contentType: typeof body.contentType === 'string' ? body.contentType : 'application/octet-stream',
    content: Buffer.from(body.contentBytes, 'base64'),
    isInline: body.isInline === true,
    contentId: typeof body.contentId === 'string' ? body.contentId : undefined,
    via: 'post' as const,
  };
  draft.attachments.push(attachment);
  sendGraphJson(call.res, 201, { '@odata.type': '#microsoft.graph.fileAttachment', id: attachment.id, name: attachment.name, contentType: attachment.contentType, size: attachment.content.length, isInline: attachment.isInline });
}

async function createUploadSession(runtime: SendRuntime, call: GraphCall, mailbox: Mailbox, id: string): Promise<void> {
  permitted(call.caller, DELEGATED_WRITE, APP_WRITE);
  const draft = draftOf(runtime, mailbox, id);
  const item = json(await readRaw(call.req)).AttachmentItem as Record<string, unknown> | undefined;
  if (!item || typeof item !== 'object') throw SendErrors.invalidAttachmentItem('AttachmentItem is missing');
  if (item.attachmentType !== 'file') throw SendErrors.invalidAttachmentItem("attachmentType must be 'file'");
  if (typeof item.name !== 'string' || item.name === '') throw SendErrors.invalidAttachmentItem('name is missing');
  if (typeof item.size !== 'number' || !Number.isInteger(item.size) || item.size <= 0) throw SendErrors.invalidAttachmentItem('size must be a positive integer');
  if (item.size < SEND_LIMITS.uploadSessionMinBytes) throw SendErrors.attachmentTooSmall();
  if (item.size > SEND_LIMITS.uploadSessionMaxBytes) throw new GraphError(400, 'ErrorAttachmentSizeShouldNotBeGreaterThanMaximumSize', 'Attachment size must be less than the maximum size.');
  const expiresAt = runtime.now() + UPLOAD_SESSION_MINUTES * 60_000;
  const session = runtime.sends.newSession(draft, {
    name: item.name,
    size: item.size,
    contentType: typeof item.contentType === 'string' ? item.contentType : 'application/octet-stream',
    isInline: item.isInline === true,
    contentId: typeof item.contentId === 'string' ? item.contentId : undefined,
    expiresAt,
  });
  sendGraphJson(call.res, 200, {
    '@odata.context': `${runtime.baseUrl}/$metadata#microsoft.graph.uploadSession`,
    uploadUrl: uploadUrlOf(runtime, session),
    expirationDateTime: graphDateTime(expiresAt),
    nextExpectedRanges: ['0-'],
  });
}

function uploadUrlOf(runtime: SendRuntime, session: UploadSession): string {
  // Outlook's upload URLs carry their authorization in the query (authtoken), not in a header.
  return `${runtime.origin}/upload/${encodeURIComponent(session.draftId)}/AttachmentSessions/${encodeURIComponent(session.token)}?authtoken=${session.token.split('.')[1]}`;
}

/**
 * PUT of one range to an upload session's URL (no Authorization header: 401 with one). The range must
 * start where the last ended and name the session's total size; every chunk but the last is a multiple of
 * 320 KiB and each is below 4 MiB (416 otherwise). 200 with nextExpectedRanges, 201 once complete (the
 * attachment is then on the draft).
 */
export async function handleUpload(runtime: SendRuntime, req: IncomingMessage, res: import('node:http').ServerResponse, url: URL): Promise<void> {
  const token = decodeURIComponent(url.pathname.split('/').pop() ?? '');
  const session = runtime.sends.sessions.get(token);
  const range = header(req, 'content-range') ?? '';
  const chunk = { sessionToken: token, contentRange: range, bytes: 0, status: 0, withAuthorization: header(req, 'authorization') !== undefined };
  runtime.sends.chunks.push(chunk);
  res.on('finish', () => (chunk.status = res.statusCode));
  const answer = (status: number, body?: unknown) => {
    if (body === undefined) {
      res.writeHead(status, { 'Content-Length': '0' });
      res.end();
    } else sendGraphJson(res, status, body);
  };
  const body = await readRaw(req, Number.MAX_SAFE_INTEGER);
  chunk.bytes = body.length;
  if (req.method !== 'PUT') throw GraphErrors.methodNotAllowed();
  if (chunk.withAuthorization) throw SendErrors.uploadWithAuthorization();
  if (!session || session.expiresAt < runtime.now() || url.searchParams.get('authtoken') !== token.split('.')[1]) throw SendErrors.uploadNotFound();
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(range);
  if (!match) throw SendErrors.invalidRange(`'${range}' is not "bytes start-end/total"`);
  const [start, end, total] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (total !== session.size) throw SendErrors.invalidRange(`total ${total}, the session is for ${session.size} bytes`);
  if (start !== session.receivedBytes) throw SendErrors.invalidRange(`starts at ${start}, expected ${session.receivedBytes}`);
  if (end < start || end >= total || end - start + 1 !== body.length) throw SendErrors.invalidRange(`${start}-${end} does not match the ${body.length} bytes sent`);
  if (body.length > SEND_LIMITS.maxRequestBytes) throw SendErrors.invalidRange(`a chunk of ${body.length} bytes is above 4 MiB`);
  const last = end === total - 1;
  if (!last && body.length % SEND_LIMITS.chunkMultiple !== 0) throw SendErrors.invalidRange(`a chunk of ${body.length} bytes is not a multiple of 320 KiB`);
  session.received.push(body);
  session.receivedBytes = end + 1;
  if (!last) return answer(200, { expirationDateTime: graphDateTime(session.expiresAt), nextExpectedRanges: [`${session.receivedBytes}-`] });
  runtime.sends.sessions.delete(token);
  const draft = runtime.sends.drafts.get(session.draftId);
  if (!draft) throw GraphErrors.itemNotFound();
  draft.attachments.push({
    id: runtime.sends.newAttachmentId(),
    name: session.name,
    contentType: session.contentType,
    content: Buffer.concat(session.received),
    isInline: session.isInline,
    contentId: session.contentId,
    via: 'uploadSession',
  });
  answer(201);
}

async function sendDraft(runtime: SendRuntime, call: GraphCall, mailbox: Mailbox, id: string): Promise<void> {
  permitted(call.caller, DELEGATED_SEND, APP_SEND);
  const draft = draftOf(runtime, mailbox, id);
  await readRaw(call.req);
  if (draft.mime) await deliverMime(runtime, mailbox, draft.mime, 'draft');
  else await deliverJson(runtime, mailbox, draft.message ?? {}, draft.attachments, 'draft');
  runtime.sends.drafts.delete(id);
  accepted(call);
}

/** A MIME message as sent: its bytes into Sent Items, without its Bcc header into each known recipient's inbox. */
async function deliverMime(runtime: SendRuntime, mailbox: Mailbox, mime: Buffer, via: FakeGraphSentMail['via']): Promise<void> {
  const parsed = await simpleParser(mime);
  const recipients = [...mimeAddresses(parsed.to), ...mimeAddresses(parsed.cc), ...mimeAddresses(parsed.bcc)].map((a) => a.toLowerCase());
  if (recipients.length === 0) throw SendErrors.noRecipients();
  const internetMessageId = parsed.messageId ?? `<${id()}@fake-graph.example>`;
  const attachments = parsed.attachments.map((a) => ({ name: a.filename ?? 'attachment', contentType: a.contentType, content: a.content, isInline: a.contentDisposition === 'inline', contentId: a.cid }));
  const withoutBcc = Buffer.from(mime.toString('latin1').replace(/^Bcc:.*\r?\n(?:[ \t].*\r?\n)*/im, ''), 'latin1');
  finish(runtime, mailbox, {
    via,
    mime,
    recipientMime: withoutBcc,
    internetMessageId,
    subject: parsed.subject ?? '',
    to: mimeAddresses(parsed.to),
    recipients,
    attachments: attachments.map((a) => ({ ...a, via: 'mime' as const })),
  });
}

/** A JSON message (sendMail or a draft): the fake composes its MIME (nodemailer), keeping internetMessageId. */
async function deliverJson(runtime: SendRuntime, mailbox: Mailbox, message: Record<string, unknown>, attachments: Draft['attachments'], via: FakeGraphSentMail['via'], saveToSentItems = true): Promise<void> {
  const to = addressesOf(message.toRecipients);
  const cc = addressesOf(message.ccRecipients);
  const bcc = addressesOf(message.bccRecipients);
  if (to.length + cc.length + bcc.length === 0) throw SendErrors.noRecipients();
  const body = (message.body ?? {}) as { contentType?: string; content?: string };
  const internetMessageId = typeof message.internetMessageId === 'string' ? message.internetMessageId : `<${id()}@fake-graph.example>`;
  const headers = Array.isArray(message.internetMessageHeaders) ? (message.internetMessageHeaders as Array<{ name: string; value: string }>) : [];
  for (const h of headers) if (!/^x-/i.test(h.name)) throw new GraphError(400, 'InvalidInternetMessageHeader', `The internet message header name '${h.name}' should start with 'x-' or 'X-'.`);
  // Exchange writes In-Reply-To / References from these MAPI properties (PidTagInReplyToId, PidTagInternetReferences).
  const extended = Array.isArray(message.singleValueExtendedProperties) ? (message.singleValueExtendedProperties as Array<{ id?: string; value?: string }>) : [];
  const property = (id: string) => extended.find((p) => p.id?.toLowerCase() === id.toLowerCase())?.value;
  const inReplyTo = property('String 0x1042');
  const references = property('String 0x1039');
  const compose = (keepBcc: boolean) => {
    const composer = new MailComposer({
      from: mailbox.email,
      to,
      cc,
      bcc,
      subject: typeof message.subject === 'string' ? message.subject : '',
      messageId: internetMessageId,
      ...(inReplyTo ? { inReplyTo } : {}),
      ...(references ? { references } : {}),
      ...(body.contentType?.toLowerCase() === 'html' ? { html: body.content ?? '' } : { text: body.content ?? '' }),
      headers: Object.fromEntries(headers.map((h) => [h.name, h.value])),
      attachments: attachments.map((a) => ({ filename: a.name, contentType: a.contentType, content: a.content, ...(a.contentId ? { cid: a.contentId } : {}), contentDisposition: a.isInline ? ('inline' as const) : ('attachment' as const) })),
    });
    const built = composer.compile();
    built.keepBcc = keepBcc;
    return built.build();
  };
  finish(runtime, mailbox, {
    via,
    mime: await compose(true),
    recipientMime: await compose(false),
    internetMessageId,
    subject: typeof message.subject === 'string' ? message.subject : '',
    to: to.map((a) => a.address),
    recipients: [...to, ...cc, ...bcc].map((a) => a.address.toLowerCase()),
    attachments: attachments.map((a) => ({ name: a.name, contentType: a.contentType, content: a.content, isInline: a.isInline, contentId: a.contentId, via: a.via })),
    saveToSentItems,
  });
}

interface Outgoing {
  via: FakeGraphSentMail['via'];
  mime: Buffer;
  recipientMime: Buffer;
  internetMessageId: string;
  subject: string;
  to: string[];
  recipients: string[];
  attachments: Array<{ name: string; contentType: string; content: Buffer; isInline: boolean; contentId?: string; via: FakeGraphSentMail['attachments'][number]['via'] }>;
  /** sendMail's `saveToSentItems` (JSON only; default true, as Graph). */
  saveToSentItems?: boolean;
}

function finish(runtime: SendRuntime, mailbox: Mailbox, out: Outgoing): void {
  const stored = (mime: Buffer): Partial<FakeGraphMessageInput> => ({
    subject: out.subject,
    from: mailbox.email,
    toRecipients: out.to.length ? out.to : out.recipients,
    internetMessageId: out.internetMessageId,
    mime,
    isRead: false,
    attachments: out.attachments.map((a) => ({ name: a.name, contentType: a.contentType, content: a.content, isInline: a.isInline, contentId: a.contentId })),
  });
  const sentItem = out.saveToSentItems === false ? null : runtime.deliverTo(mailbox.email, { ...stored(out.mime), isRead: true }, 'sentitems');
  runtime.sends.sent.push({
    email: mailbox.email,
    via: out.via,
    mime: out.mime,
    internetMessageId: out.internetMessageId,
    subject: out.subject,
    recipients: out.recipients,
    attachments: out.attachments.map(({ name, contentType, content, isInline, via }) => ({ name, contentType, content, isInline, via })),
    sentItemId: sentItem?.id ?? null,
  });
  for (const recipient of new Set(out.recipients)) {
    if (runtime.store.findMailbox(recipient)) runtime.deliverTo(recipient, stored(out.recipientMime), 'inbox');
  }
}

function id(): string {
  return Math.random().toString(36).slice(2);
}
