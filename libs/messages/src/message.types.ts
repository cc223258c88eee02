import type { Readable } from 'node:stream';
import type { MailAddress } from '@app/events';

export interface AttachmentInfo {
  /** Stable and opaque: the MIME part number for IMAP, Graph's attachment id for Graph. */
  id: string;
  filename: string | null;
  contentType: string;
  /** Decoded size in bytes. */
  size: number;
  /** Without the angle brackets; what `cid:` links in the HTML point at. */
  contentId: string | null;
  inline: boolean;
}

/** `GET /v1/mailboxes/:id/messages/:ref`. */
export interface ParsedMessage {
  ref: string;
  folder: string | null;
  subject: string | null;
  from: MailAddress | null;
  to: MailAddress[];
  cc: MailAddress[];
  bcc: MailAddress[];
  replyTo: MailAddress[];
  /** The Date header. */
  date: string | null;
  /** When the server received it (IMAP INTERNALDATE / Graph receivedDateTime). */
  receivedAt: string | null;
  internetMessageId: string | null;
  inReplyTo: string | null;
  references: string[];
  text: string | null;
  html: string | null;
  attachments: AttachmentInfo[];
}

/**
 * Bytes on their way to the client. `content` errors (never just ends) when the source fails midway;
 * `size`, when known, is the exact byte count (Content-Length).
 */
export interface MessageContent {
  content: Readable;
  contentType: string;
  size: number | null;
  filename: string | null;
  inline: boolean;
}

/** The fields a MIME parse gives (the reader adds ref, folder and receivedAt). */
export type MimeFields = Omit<ParsedMessage, 'ref' | 'folder' | 'receivedAt'>;
