import { ApiProperty } from '@nestjs/swagger';
import type { AttachmentInfo, ParsedMessage } from '../message.types';

export class MessageAddressResponse {
  @ApiProperty({ nullable: true, type: String }) name: string | null;
  @ApiProperty({ nullable: true, type: String }) address: string | null;
}

export class AttachmentResponse implements AttachmentInfo {
  @ApiProperty({ description: 'Stable, opaque: GET …/attachments/{id} streams the content (IMAP: the MIME part number; Graph: its attachment id)' }) id: string;
  @ApiProperty({ nullable: true, type: String }) filename: string | null;
  @ApiProperty() contentType: string;
  @ApiProperty({ description: 'Decoded size in bytes' }) size: number;
  @ApiProperty({ nullable: true, type: String, description: 'Content-ID without angle brackets (what cid: links in the HTML point at)' }) contentId: string | null;
  @ApiProperty({ description: 'Shown in the body (Content-Disposition inline, or an embedded image)' }) inline: boolean;
}

export class ParsedMessageResponse implements ParsedMessage {
  @ApiProperty({ description: 'The ref it was read by (message.ref of the mail.received event)' }) ref: string;
  @ApiProperty({ nullable: true, type: String }) folder: string | null;
  @ApiProperty({ nullable: true, type: String }) subject: string | null;
  @ApiProperty({ type: MessageAddressResponse, nullable: true }) from: MessageAddressResponse | null;
  @ApiProperty({ type: [MessageAddressResponse] }) to: MessageAddressResponse[];
  @ApiProperty({ type: [MessageAddressResponse] }) cc: MessageAddressResponse[];
  @ApiProperty({ type: [MessageAddressResponse] }) bcc: MessageAddressResponse[];
  @ApiProperty({ type: [MessageAddressResponse] }) replyTo: MessageAddressResponse[];
  @ApiProperty({ nullable: true, type: String, description: 'The Date header' }) date: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'When the server received it (IMAP INTERNALDATE, Graph receivedDateTime)' }) receivedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) internetMessageId: string | null;
  @ApiProperty({ nullable: true, type: String }) inReplyTo: string | null;
  @ApiProperty({ type: [String] }) references: string[];
  @ApiProperty({ nullable: true, type: String }) text: string | null;
  @ApiProperty({ nullable: true, type: String }) html: string | null;
  @ApiProperty({ type: [AttachmentResponse] }) attachments: AttachmentResponse[];
}
