import { randomUUID } from 'node:crypto';
import { GraphErrors } from './graph-errors';
import {
  messageDateTime,
  newChangeKey,
  newConversationId,
  newFolderId,
  newAttachmentId,
  newImmutableMessageId,
  newRegularMessageId,
  parseGraphDateTime,
} from './graph-ids';
import type { FakeGraphAttachmentInput, FakeGraphMessage, FakeGraphMessageInput, FakeGraphRecipient } from './types';

export interface StoredAttachment extends FakeGraphAttachmentInput {
  id: string;
  lastModifiedAt: number;
}

/** Well-known folder names a mailbox starts with (Graph also accepts them in place of folder ids). */
export const WELL_KNOWN_FOLDERS: Record<string, string> = {
  inbox: 'Inbox',
  sentitems: 'Sent Items',
  drafts: 'Drafts',
  deleteditems: 'Deleted Items',
  archive: 'Archive',
};
const ROOT = 'msgfolderroot';

/**
 * One entry of a folder's change log. Delta tokens remember a position (seq) in it; a round replays the
 * entries after it. `regularId` on a removal is the id the message had in this folder (the one a client
 * knows), since a move gives it a new regular id.
 */
export interface ChangeEntry {
  seq: number;
  key: string;
  kind: 'added' | 'updated' | 'removed';
  regularId: string;
}

export interface Folder {
  id: string;
  displayName: string;
  parentFolderId: string;
  wellKnownName?: string;
  log: ChangeEntry[];
}

export interface StoredMessage {
  /** Internal identity (neither id kind). */
  key: string;
  immutableId: string;
  regularId: string;
  folderId: string;
  deleted: boolean;
  internetMessageId: string;
  subject: string;
  from: FakeGraphRecipient;
  toRecipients: FakeGraphRecipient[];
  receivedAt: number;
  sentAt: number;
  createdAt: number;
  lastModifiedAt: number;
  hasAttachments: boolean;
  isRead: boolean;
  bodyPreview: string;
  changeKey: string;
  conversationId: string;
  /** What `/$value` answers. */
  mime: Buffer;
  attachments: StoredAttachment[];
}

export interface Mailbox {
  id: string;
  email: string;
  displayName: string;
  tenantId: string;
  folders: Map<string, Folder>;
  wellKnown: Map<string, string>;
  messages: Map<string, StoredMessage>;
  byImmutableId: Map<string, StoredMessage>;
  byRegularId: Map<string, StoredMessage>;
  /** Last sequence number handed out to a change log entry (per mailbox, across folders). */
  seq: number;
  /** Bumped by resetDeltaState: sync states of older epochs are gone (410). */
  epoch: number;
}

/** Properties of the Graph `message` resource the fake serves, in Graph's order; `$select` may name these. */
export const MESSAGE_PROPERTIES = [
  'createdDateTime',
  'lastModifiedDateTime',
  'changeKey',
  'categories',
  'receivedDateTime',
  'sentDateTime',
  'hasAttachments',
  'internetMessageId',
  'subject',
  'bodyPreview',
  'importance',
  'parentFolderId',
  'conversationId',
  'isDeliveryReceiptRequested',
  'isReadReceiptRequested',
  'isRead',
  'isDraft',
  'webLink',
  'inferenceClassification',
  'body',
  'sender',
  'from',
  'toRecipients',
  'ccRecipients',
  'bccRecipients',
  'replyTo',
  'flag',
] as const;

const PROPERTY_BY_LOWER = new Map(MESSAGE_PROPERTIES.map((p) => [p.toLowerCase(), p]));

/** `$select=subject,From` → canonical names; unknown names → 400 like Graph. `id` is always returned anyway. */
export function parseSelect(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const names: string[] = [];
  for (const raw of value.split(',')) {
    const name = raw.trim();
    if (!name || name.toLowerCase() === 'id') continue;
    const canonical = PROPERTY_BY_LOWER.get(name.toLowerCase());
    if (!canonical) throw GraphErrors.unknownProperty(name);
    if (!names.includes(canonical)) names.push(canonical);
  }
  return names;
}

export interface RenderOptions {
  immutableIds: boolean;
  select?: string[];
  /** Delta responses carry `@odata.type` on each item. */
  withType?: boolean;
}

function recipient(value: FakeGraphRecipient | string): FakeGraphRecipient {
  if (typeof value !== 'string') return { emailAddress: { name: value.emailAddress.name, address: value.emailAddress.address } };
  const local = value.split('@')[0] ?? value;
  return { emailAddress: { name: local.replace(/[._-]+/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase()), address: value } };
}

/** Mailboxes, folders and messages, with the per-folder change logs message delta is computed from. */
export class MailStore {
  private readonly byId = new Map<string, Mailbox>();
  private readonly byEmail = new Map<string, Mailbox>();
  private deliveredCount = 0;

  constructor(private readonly now: () => number) {}

  addMailbox(input: { id: string; email: string; tenantId: string; displayName: string }): Mailbox {
    const email = input.email.toLowerCase();
    const existing = this.byEmail.get(email);
    if (existing) return existing;
    const mailbox: Mailbox = {
      id: input.id,
      email,
      displayName: input.displayName,
      tenantId: input.tenantId,
      folders: new Map(),
      wellKnown: new Map(),
      messages: new Map(),
      byImmutableId: new Map(),
      byRegularId: new Map(),
      seq: 0,
      epoch: 1,
    };
    const root: Folder = { id: newFolderId(), displayName: 'Top of Information Store', parentFolderId: newFolderId(), wellKnownName: ROOT, log: [] };
    mailbox.folders.set(root.id, root);
    mailbox.wellKnown.set(ROOT, root.id);
    for (const [name, displayName] of Object.entries(WELL_KNOWN_FOLDERS)) {
      const folder: Folder = { id: newFolderId(), displayName, parentFolderId: root.id, wellKnownName: name, log: [] };
      mailbox.folders.set(folder.id, folder);
      mailbox.wellKnown.set(name, folder.id);
    }
    this.byId.set(mailbox.id, mailbox);
    this.byEmail.set(email, mailbox);
    return mailbox;
  }

  /** By object id or by UPN/e-mail (case-insensitive), as `/users/{id | userPrincipalName}` accepts. */
  findMailbox(idOrEmail: string): Mailbox | undefined {
    return this.byId.get(idOrEmail) ?? this.byId.get(idOrEmail.toLowerCase()) ?? this.byEmail.get(idOrEmail.toLowerCase());
  }

  mailbox(idOrEmail: string): Mailbox {
    const mailbox = this.findMailbox(idOrEmail);
    if (!mailbox) throw new Error(`FakeGraph: no mailbox ${idOrEmail} (call addUser first)`);
    return mailbox;
  }

  /** A folder by well-known name (any case) or id; undefined when there is none. */
  findFolder(mailbox: Mailbox, nameOrId: string): Folder | undefined {
    const wellKnown = mailbox.wellKnown.get(nameOrId.toLowerCase());
    return mailbox.folders.get(wellKnown ?? nameOrId);
  }

  /** As the HTTP API answers an unknown folder: malformed-looking → 400, id-shaped but unknown → 404. */
  folderOrError(mailbox: Mailbox, nameOrId: string): Folder {
    const folder = this.findFolder(mailbox, nameOrId);
    if (folder) return folder;
    throw /^A[AQ]Mk/.test(nameOrId) ? GraphErrors.itemNotFound() : GraphErrors.idMalformed();
  }

  folder(mailbox: Mailbox, nameOrId: string): Folder {
    const folder = this.findFolder(mailbox, nameOrId);
    if (!folder) throw new Error(`FakeGraph: no folder ${nameOrId} in ${mailbox.email}`);
    return folder;
  }

  addFolder(mailbox: Mailbox, displayName: string, parent?: string): Folder {
    const parentFolder = this.folder(mailbox, parent ?? ROOT);
    const folder: Folder = { id: newFolderId(), displayName, parentFolderId: parentFolder.id, log: [] };
    mailbox.folders.set(folder.id, folder);
    return folder;
  }

  /** Either id kind; a regular id from before a move is gone (undefined), as in Exchange. */
  findMessage(mailbox: Mailbox, id: string): StoredMessage | undefined {
    const message = mailbox.byImmutableId.get(id) ?? mailbox.byRegularId.get(id);
    return message && !message.deleted ? message : undefined;
  }

  message(mailbox: Mailbox, id: string): StoredMessage {
    const message = this.findMessage(mailbox, id);
    if (!message) throw new Error(`FakeGraph: no message ${id} in ${mailbox.email}`);
    return message;
  }

  deliver(mailbox: Mailbox, folder: Folder, input: Partial<FakeGraphMessageInput> = {}): StoredMessage {
    const now = this.now();
    this.deliveredCount += 1;
    // Exchange keeps receivedDateTime to the second, and $filter compares against that stored value.
    const receivedAt = wholeSecond(parseGraphDateTime(input.receivedDateTime) ?? now);
    const message: StoredMessage = {
      key: randomUUID(),
      immutableId: newImmutableMessageId(),
      regularId: newRegularMessageId(),
      folderId: folder.id,
      deleted: false,
      internetMessageId: input.internetMessageId ?? `<${randomUUID()}@fake-graph.example>`,
      subject: input.subject ?? `Message ${this.deliveredCount}`,
      from: recipient(input.from ?? 'sender@example.com'),
      toRecipients: (input.toRecipients ?? [mailbox.email]).map(recipient),
      receivedAt,
      sentAt: wholeSecond(parseGraphDateTime(input.sentDateTime) ?? receivedAt),
      createdAt: now,
      lastModifiedAt: now,
      hasAttachments: input.hasAttachments ?? (input.attachments?.length ?? 0) > 0,
      isRead: input.isRead ?? false,
      bodyPreview: input.bodyPreview ?? `Body of message ${this.deliveredCount}`,
      changeKey: newChangeKey(),
      conversationId: newConversationId(),
      mime: Buffer.alloc(0),
      attachments: (input.attachments ?? []).map((a) => ({ ...a, id: newAttachmentId(), lastModifiedAt: now })),
    };
    message.mime = input.mime !== undefined ? Buffer.from(input.mime) : plainMime(message);
    mailbox.messages.set(message.key, message);
    mailbox.byImmutableId.set(message.immutableId, message);
    mailbox.byRegularId.set(message.regularId, message);
    this.log(mailbox, folder, message, 'added');
    return message;
  }

  update(mailbox: Mailbox, message: StoredMessage, patch: { isRead?: boolean; subject?: string }): void {
    if (patch.isRead !== undefined) message.isRead = patch.isRead;
    if (patch.subject !== undefined) message.subject = patch.subject;
    message.changeKey = newChangeKey();
    message.lastModifiedAt = this.now();
    this.log(mailbox, this.folder(mailbox, message.folderId), message, 'updated');
  }

  /** Returns the regular id the message had (the one notifications and delta report as removed). */
  remove(mailbox: Mailbox, message: StoredMessage): string {
    const regularId = message.regularId;
    message.deleted = true;
    mailbox.byRegularId.delete(regularId);
    mailbox.byImmutableId.delete(message.immutableId);
    this.log(mailbox, this.folder(mailbox, message.folderId), message, 'removed');
    return regularId;
  }

  /** A move keeps the immutable id and hands out a new regular id (the old one stops resolving). */
  move(mailbox: Mailbox, message: StoredMessage, to: Folder): { from: Folder; oldRegularId: string } {
    const from = this.folder(mailbox, message.folderId);
    const oldRegularId = message.regularId;
    if (from.id === to.id) return { from, oldRegularId };
    this.log(mailbox, from, message, 'removed');
    mailbox.byRegularId.delete(oldRegularId);
    message.regularId = newRegularMessageId();
    mailbox.byRegularId.set(message.regularId, message);
    message.folderId = to.id;
    message.changeKey = newChangeKey();
    message.lastModifiedAt = this.now();
    this.log(mailbox, to, message, 'added');
    return { from, oldRegularId };
  }

  messagesIn(mailbox: Mailbox, folder: Folder): StoredMessage[] {
    return [...mailbox.messages.values()].filter((m) => !m.deleted && m.folderId === folder.id);
  }

  /** Drops every sync state of the mailbox: old delta and skip tokens answer 410 from now on. */
  resetDeltaState(mailbox: Mailbox): void {
    mailbox.epoch += 1;
  }

  private log(mailbox: Mailbox, folder: Folder, message: StoredMessage, kind: ChangeEntry['kind']): void {
    mailbox.seq += 1;
    folder.log.push({ seq: mailbox.seq, key: message.key, kind, regularId: message.regularId });
  }
}

export function messageId(message: StoredMessage, immutableIds: boolean): string {
  return immutableIds ? message.immutableId : message.regularId;
}

export function etag(message: StoredMessage): string {
  return `W/"${message.changeKey}"`;
}

/** The Graph JSON of a message; with `$select`, only those properties plus id and @odata.etag (as Graph). */
export function renderMessage(message: StoredMessage, options: RenderOptions): Record<string, unknown> {
  const full: Record<string, unknown> = {
    createdDateTime: messageDateTime(message.createdAt),
    lastModifiedDateTime: messageDateTime(message.lastModifiedAt),
    changeKey: message.changeKey,
    categories: [],
    receivedDateTime: messageDateTime(message.receivedAt),
    sentDateTime: messageDateTime(message.sentAt),
    hasAttachments: message.hasAttachments,
    internetMessageId: message.internetMessageId,
    subject: message.subject,
    bodyPreview: message.bodyPreview,
    importance: 'normal',
    parentFolderId: message.folderId,
    conversationId: message.conversationId,
    isDeliveryReceiptRequested: false,
    isReadReceiptRequested: false,
    isRead: message.isRead,
    isDraft: false,
    webLink: `https://outlook.office365.com/owa/?ItemID=${encodeURIComponent(message.regularId)}&exvsurl=1&viewmodel=ReadMessageItem`,
    inferenceClassification: 'focused',
    body: { contentType: 'text', content: message.bodyPreview },
    sender: message.from,
    from: message.from,
    toRecipients: message.toRecipients,
    ccRecipients: [],
    bccRecipients: [],
    replyTo: [],
    flag: { flagStatus: 'notFlagged' },
  };
  const head: Record<string, unknown> = options.withType ? { '@odata.type': '#microsoft.graph.message' } : {};
  head['@odata.etag'] = etag(message);
  head.id = messageId(message, options.immutableIds);
  const properties = options.select ?? MESSAGE_PROPERTIES;
  for (const name of properties) head[name] = full[name];
  return head;
}

/** A snapshot for the test-facing API. */
export function snapshot(mailbox: Mailbox, message: StoredMessage): FakeGraphMessage {
  return {
    id: message.immutableId,
    immutableId: message.immutableId,
    regularId: message.regularId,
    userId: mailbox.id,
    internetMessageId: message.internetMessageId,
    subject: message.subject,
    from: message.from,
    toRecipients: message.toRecipients.map((r) => ({ emailAddress: { ...r.emailAddress } })),
    receivedDateTime: messageDateTime(message.receivedAt),
    sentDateTime: messageDateTime(message.sentAt),
    hasAttachments: message.hasAttachments,
    isRead: message.isRead,
    bodyPreview: message.bodyPreview,
    parentFolderId: message.folderId,
    changeKey: message.changeKey,
    etag: etag(message),
  };
}

function wholeSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

/** A plain-text MIME message from the fields, for messages delivered without one. */
function plainMime(message: StoredMessage): Buffer {
  const address = (r: FakeGraphRecipient) => `"${r.emailAddress.name}" <${r.emailAddress.address}>`;
  return Buffer.from(
    [
      `From: ${address(message.from)}`,
      `To: ${message.toRecipients.map(address).join(', ')}`,
      `Subject: ${message.subject}`,
      `Date: ${new Date(message.sentAt).toUTCString()}`,
      `Message-ID: ${message.internetMessageId}`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      message.bodyPreview,
      '',
    ].join('\r\n'),
    'utf8',
  );
}

/** Graph's fileAttachment resource (contentBytes base64), optionally `$select`ed. */
export function renderAttachment(attachment: StoredAttachment, select?: string[]): Record<string, unknown> {
  const full: Record<string, unknown> = {
    '@odata.type': '#microsoft.graph.fileAttachment',
    '@odata.mediaContentType': attachment.contentType,
    id: attachment.id,
    lastModifiedDateTime: messageDateTime(attachment.lastModifiedAt),
    name: attachment.name,
    contentType: attachment.contentType,
    size: attachment.content.length,
    isInline: attachment.isInline ?? false,
    contentId: attachment.contentId ?? null,
    contentLocation: null,
    contentBytes: attachment.content.toString('base64'),
  };
  if (!select) return full;
  const out: Record<string, unknown> = { '@odata.type': full['@odata.type'], id: attachment.id };
  for (const name of select) if (name in full) out[name] = full[name];
  return out;
}
