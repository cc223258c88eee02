import { applyDecorators, HttpCode } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiQuery,
  ApiServiceUnavailableResponse,
} from '@nestjs/swagger';
import { GRAPH_LIFECYCLE_EVENTS } from './graph-notification.job';
import { MAX_NOTIFICATIONS_PER_POST } from './notification-payload';

/** OpenAPI description of Graph's payload; the receiver reads the body itself (see notification-payload.ts). */
export class GraphResourceDataDoc {
  @ApiPropertyOptional({ name: '@odata.type', example: '#Microsoft.Graph.Message' }) odataType?: string;
  @ApiPropertyOptional({ description: 'Id of the changed message' }) id?: string;
}

export class GraphNotificationDoc {
  @ApiProperty({ format: 'uuid', description: 'Graph subscription id; unknown ids are dropped' }) subscriptionId: string;
  @ApiProperty({ description: 'The secret given when subscribing; missing or wrong: the item is dropped as forged' }) clientState: string;
  @ApiPropertyOptional({ example: 'created' }) changeType?: string;
  @ApiPropertyOptional({ example: "Users/{user-id}/Messages/{message-id}" }) resource?: string;
  @ApiPropertyOptional({ type: GraphResourceDataDoc }) resourceData?: GraphResourceDataDoc;
  @ApiPropertyOptional() tenantId?: string;
  @ApiPropertyOptional() subscriptionExpirationDateTime?: string;
  @ApiPropertyOptional({ enum: GRAPH_LIFECYCLE_EVENTS, description: 'Lifecycle notifications only' }) lifecycleEvent?: string;
}

export class GraphNotificationCollectionDoc {
  @ApiProperty({ type: [GraphNotificationDoc], description: `Items beyond the first ${MAX_NOTIFICATIONS_PER_POST} are not read` }) value: GraphNotificationDoc[];
}

/** The OpenAPI shape shared by both receiver endpoints; 202 is their status for a notification POST. */
export function GraphReceiverEndpoint(summary: string): MethodDecorator {
  return applyDecorators(
    HttpCode(202),
    ApiOperation({ summary, description: 'Called by Microsoft Graph; no API key. Validation requests carry `validationToken` and get it echoed.' }),
    ApiExtraModels(GraphNotificationCollectionDoc),
    ApiQuery({ name: 'validationToken', required: false, description: 'Validation handshake: echoed back (decoded) as text/plain' }),
    ApiBody({ type: GraphNotificationCollectionDoc, required: false }),
    ApiOkResponse({ description: 'Validation handshake: the decoded validationToken', content: { 'text/plain': { schema: { type: 'string' } } } }),
    ApiAcceptedResponse({
      description:
        `Received; the valid items are queued for the listener. Forged, unknown and malformed items (a subscriptionId that is not a GUID, ` +
        `fields of the wrong type, NUL characters) and items beyond the first ${MAX_NOTIFICATIONS_PER_POST} are dropped and counted, one by one`,
    }),
    ApiBadRequestResponse({ description: 'Not a Graph notification collection, or a body that is not what its Content-Encoding says; the message names the problem' }),
    ApiPayloadTooLargeResponse({ description: 'Body larger than 1 MiB' }),
    ApiServiceUnavailableResponse({ description: 'Could not store the notifications (Redis or Postgres unavailable): Graph retries' }),
  );
}
