import type { Readable } from 'node:stream';
import MailComposer from 'nodemailer/lib/mail-composer';
import { Address, addressProblem } from '../dto/address-list';
import { SendRequestDto } from '../dto/send-request.dto';
import { InvalidMessageException } from '../send-errors';
import { ComposedMessage } from './composed-message';

function addresses(list: unknown[] | undefined): Address[] {
  return (list ?? []).map((item) => addressProblem(item) as Address);
}

function formatted(list: Address[]): { name: string; address: string }[] | undefined {
  return list.length > 0 ? list.map((a) => ({ name: a.name ?? '', address: a.address })) : undefined;
}

/** Fixed by tests that compare two compositions byte for byte; random and now otherwise. */
export interface ComposeOptions {
  date?: Date;
  baseBoundary?: string;
}

/** A message composed as a stream: its bytes come as it is read (attachments read from their streams then). */
export interface StreamedMessage {
  stream: Readable;
  messageId: string;
  envelope: { from: string; to: string[] };
}

/**
 * The JSON request as MIME (nodemailer's MailComposer: RFC 2047 encoded words, quoted-printable or base64
 * bodies, multipart/alternative and mixed). From is the mailbox; Bcc is left out of the headers (the
 * envelope carries it); the Message-ID is ours. Attachment `i`'s content is `contentOf(i)`: the decoded
 * bytes, or a stream of them (then MailComposer reads it only as it writes that part). Attachments go out
 * base64 either way (nodemailer's default), so both give the same bytes, except a message/* attachment,
 * which cannot be encoded: labelled 7bit or 8bit by its bytes when at hand, 8bit from a stream.
 */
function composer(dto: SendRequestDto, from: { email: string; name?: string | null }, messageId: string, contentOf: (index: number) => Buffer | Readable, options: ComposeOptions): MailComposer {
  const to = addresses(dto.to);
  const cc = addresses(dto.cc);
  const bcc = addresses(dto.bcc);
  if (to.length + cc.length + bcc.length === 0) throw new InvalidMessageException('to: at least one recipient is required in to, cc or bcc');
  return new MailComposer({
    from: { name: from.name ?? '', address: from.email },
    to: formatted(to),
    cc: formatted(cc),
    bcc: formatted(bcc),
    replyTo: formatted(addresses(dto.replyTo)),
    subject: dto.subject,
    text: dto.text,
    html: dto.html,
    inReplyTo: dto.inReplyTo,
    references: dto.references,
    headers: dto.headers,
    messageId,
    date: options.date ?? new Date(),
    ...(options.baseBoundary ? { baseBoundary: options.baseBoundary } : {}),
    attachments: (dto.attachments ?? []).map((attachment, index) => ({
      filename: attachment.filename,
      contentType: attachment.contentType ?? 'application/octet-stream',
      content: contentOf(index),
    })),
  });
}

/** The whole message in memory (attachments' base64 decoded from the DTO). The outbox streams instead: composeJsonStream. */
export async function composeJson(dto: SendRequestDto, from: { email: string; name?: string | null }, messageId: string, options: ComposeOptions = {}): Promise<ComposedMessage> {
  const node = composer(dto, from, messageId, (index) => Buffer.from(dto.attachments![index].content, 'base64'), options).compile();
  const raw = await node.build();
  const envelope = node.getEnvelope();
  return { raw, messageId, envelope: { from: from.email, to: envelope.to } };
}

/** The message as a stream, attachment contents read from `contentOf(i)` while it is read (never held whole). */
export function composeJsonStream(
  dto: SendRequestDto,
  from: { email: string; name?: string | null },
  messageId: string,
  contentOf: (index: number) => Readable,
  options: ComposeOptions = {},
): StreamedMessage {
  const node = composer(dto, from, messageId, contentOf, options).compile();
  const envelope = node.getEnvelope();
  return { stream: node.createReadStream(), messageId, envelope: { from: from.email, to: envelope.to } };
}
