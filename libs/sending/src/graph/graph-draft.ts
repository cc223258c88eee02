import { AddressObject, Attachment, simpleParser } from 'mailparser';

interface GraphRecipient {
  emailAddress: { name?: string; address: string };
}

/** A message resource to create as a draft (POST …/messages), without its attachments. */
export interface GraphDraft {
  subject: string;
  body: { contentType: 'html' | 'text'; content: string };
  toRecipients: GraphRecipient[];
  ccRecipients: GraphRecipient[];
  bccRecipients: GraphRecipient[];
  replyTo: GraphRecipient[];
  /** Our Message-ID, so the send can be found later (in Sent Items, in the recipients' mailboxes). */
  internetMessageId: string;
  /** Graph takes only `X-` headers here. */
  internetMessageHeaders?: Array<{ name: string; value: string }>;
  /** In-Reply-To and References as the MAPI properties Exchange writes those headers from (see THREADING). */
  singleValueExtendedProperties?: Array<{ id: string; value: string }>;
}

/**
 * Exchange's MAPI properties behind the threading headers (MS-OXPROPS): PidTagInReplyToId (0x1042) →
 * `In-Reply-To`, PidTagInternetReferences (0x1039) → `References`. Graph refuses them as
 * internetMessageHeaders (only `X-` names), but takes them as extended properties of the message.
 */
export const THREADING = { inReplyTo: 'String 0x1042', references: 'String 0x1039' } as const;

export interface GraphDraftAttachment {
  name: string;
  contentType: string;
  content: Buffer;
  isInline: boolean;
  contentId: string | null;
}

function recipients(header: AddressObject | AddressObject[] | undefined): GraphRecipient[] {
  if (!header) return [];
  type Entry = AddressObject['value'][number];
  const flatten = (entries: Entry[]): Entry[] => entries.flatMap((entry) => (entry.group ? flatten(entry.group) : [entry]));
  return (Array.isArray(header) ? header : [header])
    .flatMap((h) => flatten(h.value))
    .filter((entry) => entry.address)
    .map((entry) => ({ emailAddress: { ...(entry.name ? { name: entry.name } : {}), address: entry.address as string } }));
}

function attachmentOf(attachment: Attachment, index: number): GraphDraftAttachment {
  const disposition = attachment.contentDisposition?.toLowerCase();
  return {
    name: attachment.filename ?? `attachment-${index + 1}`,
    contentType: attachment.contentType || 'application/octet-stream',
    content: attachment.content,
    isInline: disposition === 'inline' || (disposition === undefined && attachment.related === true),
    contentId: attachment.cid ?? null,
  };
}

/**
 * A stored send (its MIME) as Graph's JSON message plus its attachments, for the large-message way
 * (draft, upload sessions, send). JSON because Graph documents upload sessions on a draft it created
 * from JSON, and a draft created from base64 MIME is bound by the same 4 MB request limit as sendMail,
 * so the message with its large attachment could not be handed over as MIME at all. What JSON cannot
 * carry as headers: anything but `X-…` (Graph refuses other names); the Message-ID is kept through
 * `internetMessageId`, In-Reply-To and References through their MAPI properties (THREADING), and
 * Exchange composes the MIME itself.
 */
export async function graphDraftOf(raw: Buffer, messageId: string, bcc: string[]): Promise<{ draft: GraphDraft; attachments: GraphDraftAttachment[] }> {
  const parsed = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
  const headers: Array<{ name: string; value: string }> = parsed.headerLines
    .filter((line) => /^x-/i.test(line.key))
    .map((line) => ({ name: line.line.slice(0, line.line.indexOf(':')).trim(), value: line.line.slice(line.line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim() }));
  const html = typeof parsed.html === 'string' ? parsed.html : null;
  const draft: GraphDraft = {
    subject: parsed.subject ?? '',
    body: html !== null ? { contentType: 'html', content: html } : { contentType: 'text', content: parsed.text ?? '' },
    toRecipients: recipients(parsed.to),
    ccRecipients: recipients(parsed.cc),
    bccRecipients: bcc.map((address) => ({ emailAddress: { address } })),
    replyTo: recipients(parsed.replyTo),
    internetMessageId: messageId,
    ...(headers.length ? { internetMessageHeaders: headers } : {}),
  };
  const references = Array.isArray(parsed.references) ? parsed.references.join(' ') : parsed.references;
  const threading = [
    ...(parsed.inReplyTo ? [{ id: THREADING.inReplyTo, value: parsed.inReplyTo }] : []),
    ...(references ? [{ id: THREADING.references, value: references }] : []),
  ];
  if (threading.length) draft.singleValueExtendedProperties = threading;
  return { draft, attachments: parsed.attachments.map(attachmentOf) };
}
