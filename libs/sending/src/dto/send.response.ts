import { ApiProperty } from '@nestjs/swagger';
import { SEND_STATES, SendState } from '../send-state';

export class SendErrorResponse {
  @ApiProperty({ description: 'Stable code: SMTP_<reply code> (SMTP_550), SMTP_AUTH_FAILED, SMTP_NETWORK, SMTP_TLS, GRAPH_<Graph error code> (GRAPH_ErrorInvalidRecipients, GRAPH_TooManyRequests), SEND_OUTCOME_UNKNOWN, SEND_RETRY_WINDOW_OVER …' }) code: string;
  @ApiProperty({ description: "For humans; quotes the server's reply" }) message: string;
  @ApiProperty() at: string;
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
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: string;
}
