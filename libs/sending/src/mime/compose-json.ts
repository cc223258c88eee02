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

/**
 * The JSON request as MIME (nodemailer's MailComposer: RFC 2047 encoded words, quoted-printable or base64
 * bodies, multipart/alternative and mixed). From is the mailbox; Bcc is left out of the headers (the
 * envelope carries it); the Message-ID is ours.
 */
export async function composeJson(dto: SendRequestDto, from: { email: string; name?: string | null }, messageId: string): Promise<ComposedMessage> {
  const to = addresses(dto.to);
  const cc = addresses(dto.cc);
  const bcc = addresses(dto.bcc);
  if (to.length + cc.length + bcc.length === 0) throw new InvalidMessageException('to: at least one recipient is required in to, cc or bcc');
  const composer = new MailComposer({
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
    date: new Date(),
    attachments: (dto.attachments ?? []).map((attachment) => ({
      filename: attachment.filename,
      contentType: attachment.contentType ?? 'application/octet-stream',
      content: Buffer.from(attachment.content, 'base64'),
    })),
  });
  const node = composer.compile();
  const raw = await node.build();
  const envelope = node.getEnvelope();
  return { raw, messageId, envelope: { from: from.email, to: envelope.to } };
}
