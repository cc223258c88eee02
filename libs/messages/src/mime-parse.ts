import type { Readable } from 'node:stream';
import { AddressObject, EmailAddress, MailParser, type AttachmentStream, type MessageText } from 'mailparser';
import type { MailAddress } from '@app/events';
import type { AttachmentInfo, MimeFields } from './message.types';

function flatten(entries: EmailAddress[]): MailAddress[] {
  return entries.flatMap((entry) => (entry.group ? flatten(entry.group) : [{ name: entry.name || null, address: entry.address || null }]));
}

function addresses(header: AddressObject | AddressObject[] | undefined): MailAddress[] {
  if (!header) return [];
  return (Array.isArray(header) ? header : [header]).flatMap((h) => flatten(h.value));
}

function references(value: string | string[] | undefined): string[] {
  if (!value) return [];
  return (Array.isArray(value) ? value : value.split(/\s+/)).map((r) => r.trim()).filter(Boolean);
}

function dateOf(line: string | null): string | null {
  if (!line) return null;
  const date = new Date(line.replace(/^date:\s*/i, '').replace(/\r?\n\s*/g, ' ').replace(/\s*\([^)]*\)\s*$/, '').trim());
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** IMAP numbering, as BODYSTRUCTURE has it: a message that is not multipart has its body at part 1. */
export function attachmentInfoOf(attachment: AttachmentStream, size: number): AttachmentInfo {
  const disposition = attachment.contentDisposition?.toLowerCase();
  return {
    id: attachment.partId ?? '1',
    filename: attachment.filename ?? null,
    contentType: attachment.contentType,
    size,
    contentId: attachment.cid ?? null,
    inline: disposition === 'inline' || (disposition === undefined && attachment.related === true),
  };
}

/**
 * Parses a MIME message as it streams in (mailparser): headers, text and HTML are kept; attachments are
 * counted and dropped, never buffered, so a message with 25 MB of attachments costs its text parts only.
 * `source` is consumed whole; its error rejects.
 */
export function parseMime(source: Readable): Promise<MimeFields> {
  return new Promise((resolve, reject) => {
    const parser = new MailParser({ skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true });
    const attachments: Promise<AttachmentInfo>[] = [];
    let text: MessageText | null = null;
    // mailparser puts "now" in place of a Date header it cannot read: the header line is parsed here instead.
    let dateLine: string | null = null;
    parser.once('headerLines', (lines: ReadonlyArray<{ key: string; line: string }>) => {
      dateLine = lines.find((l) => l.key === 'date')?.line ?? null;
    });
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      parser.destroy();
      source.destroy();
      reject(error);
    };
    parser.on('data', (data: AttachmentStream | MessageText) => {
      if (data.type === 'text') {
        text = data;
        return;
      }
      let size = 0;
      attachments.push(
        new Promise<AttachmentInfo>((done) => {
          data.content.on('data', (chunk: Buffer) => (size += chunk.length));
          data.content.on('end', () => done(attachmentInfoOf(data, size)));
          data.content.on('error', fail);
        }),
      );
      data.release?.();
    });
    parser.on('error', fail);
    source.on('error', fail);
    parser.on('end', async () => {
      if (failed) return;
      const t = text as MessageText | null;
      const parts = await Promise.all(attachments);
      parts.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
      resolve({
        subject: parser.subject ?? null,
        from: addresses(parser.from)[0] ?? null,
        to: addresses(parser.to),
        cc: addresses(parser.cc),
        bcc: addresses(parser.bcc),
        replyTo: addresses(parser.replyTo),
        date: dateOf(dateLine),
        internetMessageId: parser.messageId ?? null,
        inReplyTo: parser.inReplyTo ?? null,
        references: references(parser.references),
        text: t?.text ?? null,
        html: typeof t?.html === 'string' ? t.html : null,
        attachments: parts,
      });
    });
    source.pipe(parser);
  });
}
