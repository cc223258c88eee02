import { ApiProperty } from '@nestjs/swagger';
import { SEND_STATES, SendState } from '../send-state';
import { SENT_COPY_STATES, SentCopyState } from '../sent-copy/sent-copy-state';

export class SendErrorResponse {
  @ApiProperty({ description: 'Stable code: SMTP_<reply code> (SMTP_550), SMTP_AUTH_FAILED, SMTP_NETWORK, SMTP_TLS, GRAPH_<Graph error code> (GRAPH_ErrorInvalidRecipients, GRAPH_TooManyRequests), SEND_OUTCOME_UNKNOWN, SEND_RETRY_WINDOW_OVER …' }) code: string;
  @ApiProperty({ description: "For humans; quotes the server's reply" }) message: string;
  @ApiProperty() at: string;
}

export class SentCopyResponse {
  @ApiProperty({
    enum: SENT_COPY_STATES,
    description:
      "pending: not made yet (or waiting for its next try); appending: being made; appended: in `folder`; failed: given up, `error` says why (the send itself is sent); not_needed: the server keeps its own copy (provider appendToSent off)",
  })
  state: SentCopyState;
  @ApiProperty({ nullable: true, type: String, description: 'The Sent folder the copy went (or goes) to' }) folder: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Why the last try failed' }) error: string | null;
}

export class SendAcceptedResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: SEND_STATES }) state: SendState;
}

export class SendResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: SEND_STATES }) state: SendState;
  @ApiProperty({ description: 'The Message-ID header the message goes out with (fixed when the send is accepted)' }) messageId: string;
  @ApiProperty({ description: 'Attempts so far (SMTP or Graph)' }) attempts: number;
  @ApiProperty({ type: SendErrorResponse, nullable: true }) lastError: SendErrorResponse | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) sentAt: string | null;
  @ApiProperty({ nullable: true, type: String, description: "The server's reply to DATA once sent, or how an interrupted attempt was confirmed (\"Confirmed from the Sent folder: …\")" })
  response: string | null;
  @ApiProperty({ type: SentCopyResponse, nullable: true, description: 'The copy in the Sent folder, once the send is sent (null before, and for failed sends)' })
  sentCopy: SentCopyResponse | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: string;
}
